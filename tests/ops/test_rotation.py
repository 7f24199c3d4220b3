"""`tipline keys rotate` in one process: every kind of wrapped value moves to the new KEK, the
old KEK is destroyed only at the end, and both KEKs open data while a rotation is under way.

The rotation under load (a live server filing and reading reports while another process
rotates, and a rotation killed half-way and resumed) is in test_rotation_live.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from nacl.public import PrivateKey

from tests import factories
from tipline.audit.models import AuditEntry
from tipline.cases import selectors
from tipline.cases.models import Report, ReportKey
from tipline.crypto import box, keyfiles
from tipline.exchange import actions as exchange
from tipline.exchange import sending
from tipline.locker import actions as locker_actions
from tipline.locker import sessions
from tipline.metrics.models import SatisfactionAnswer, SatisfactionStage
from tipline.metrics.satisfaction import answer_record
from tipline.ops import doctor, rotation

pytestmark = pytest.mark.django_db(transaction=True)

PHRASE = "harbour violet seventeen kettle"


def _key_dir() -> Path:
    return Path(settings.KEY_DIR)


def _everything() -> dict[str, object]:
    """One of each kind of KEK-wrapped value, with how to read it back."""
    created = factories.report(uploads=[factories.upload()])
    answer = answer_record(
        category="other",
        stage=SatisfactionStage.SUBMITTED,
        easy=5,
        safe=5,
        next_steps=4,
        comment="The form was clear.",
    )
    assert answer is not None
    hotline = exchange.hotline_add(
        actor="test",
        name="north",
        base_url="https://north.example",
        public_key_hex=bytes(PrivateKey.generate().public_key).hex(),
    ).hotline
    exchange.hotline_set_token(actor="test", name="north", token="partner-issued-token-1")
    locker_actions.locker_create(passphrase=PHRASE)
    return {"report": created.report, "answer": answer, "hotline": hotline}


def _read_all(things: dict[str, object]) -> None:
    report = Report.objects.get(pk=things["report"].pk)  # type: ignore[attr-defined]
    assert selectors.report_details(report)["what_happened"] == "He sends messages every night."
    assert len(selectors.report_files(report)) == 1
    hotline = things["hotline"]
    hotline.refresh_from_db()  # type: ignore[attr-defined]
    assert (
        box.open_secret(
            bytes(hotline.outbound_token),  # type: ignore[attr-defined]
            context=sending.token_context(hotline.pk),  # type: ignore[attr-defined]
        )
        == b"partner-issued-token-1"
    )
    assert sessions.open_with_passphrase(PHRASE).key
    assert doctor.run(grace_minutes=0, task_minutes=60) == []


def test_rotation_rewraps_every_kind_and_destroys_the_old_kek() -> None:
    things = _everything()
    old_kek = _key_dir() / "kek-1.key"
    assert old_kek.exists()

    progress = rotation.rotate(batch=2, grace=0)

    # Two report keys, the answer's key, the locker's key and the partner token.
    assert progress.rewrapped == 5
    assert not old_kek.exists()
    manifest = json.loads((_key_dir() / keyfiles.MANIFEST_NAME).read_text())
    assert "kek-1.key" not in manifest["keys"]
    assert "kek-2.key" in manifest["keys"]
    assert "kek-1.key" in manifest["destroyed"]
    assert keyfiles.problems(_key_dir()) == []
    assert set(ReportKey.objects.values_list("kek_id", flat=True)) == {2}
    for row in SatisfactionAnswer.objects.all():
        assert box.wrapped_kek_id(row.comment_key) == 2
    _read_all(things)
    # New data after the rotation is wrapped by the new KEK and reads back.
    later = factories.report(text="Another account appeared today.")
    assert set(ReportKey.objects.filter(report=later.report).values_list("kek_id", flat=True)) == {
        2
    }
    assert (
        selectors.report_details(later.report)["what_happened"] == "Another account appeared today."
    )
    actions = list(
        AuditEntry.objects.filter(action__startswith="keys.rotate").values_list("action", flat=True)
    )
    assert actions == ["keys.rotate.start", "keys.rotate.destroy"]
    # `keys init` after a rotation knows kek-2 is the KEK: it creates no new kek-1.
    done = dict(keyfiles.init_keys(_key_dir(), stored_data="the database holds reports"))
    assert done[_key_dir() / "kek-2.key"] == "ok"
    assert not old_kek.exists()


def test_both_keks_open_data_while_a_rotation_is_under_way() -> None:
    before = factories.report(text="Messages from a new number every day.")
    keyfiles.begin_rotation(_key_dir())
    during = factories.report(text="The same person wrote again.")
    assert ReportKey.objects.filter(report=before.report).first().kek_id == 1  # type: ignore[union-attr]
    assert ReportKey.objects.filter(report=during.report).first().kek_id == 2  # type: ignore[union-attr]
    for created in (before, during):
        assert selectors.report_details(created.report)["what_happened"]
    # doctor says a rotation is pending, and nothing else.
    findings = doctor.run(grace_minutes=0, task_minutes=60)
    assert [f.check for f in findings] == ["keys"]
    assert "rotation is under way" in findings[0].problem

    progress = rotation.rotate(grace=0)  # resumes: no third KEK
    assert progress.rewrapped == 2
    assert sorted(p.name for p in _key_dir().glob("kek-*")) == ["kek-2.key"]
    assert doctor.run(grace_minutes=0, task_minutes=60) == []


def test_a_destroyed_kek_is_refused_even_by_a_process_that_read_it() -> None:
    created = factories.report()
    wrapped = bytes(ReportKey.objects.filter(report=created.report).first().wrapped)  # type: ignore[union-attr]
    rotation.rotate(grace=0)
    with pytest.raises(box.DecryptionError):
        box.unwrap_data_key(
            wrapped,
            context=f"report:{created.report.pk}:{ReportKey.objects.first().purpose}",  # type: ignore[union-attr]
        )


def test_a_crash_between_forgetting_and_removing_the_old_kek_is_finished_later() -> None:
    factories.report()
    key_dir = _key_dir()
    keyfiles.begin_rotation(key_dir)
    rotation.rotate(grace=0)
    # Simulate the crash: the manifest forgot kek-1 but its file is still there.
    leftover = key_dir / "kek-1.key"
    leftover.write_bytes(b"\x01" * 32)
    leftover.chmod(0o600)
    assert keyfiles.problems(key_dir) == []  # a forgotten file is not a start-up problem
    assert keyfiles.finish_destruction(key_dir) == [leftover]
    assert not leftover.exists()


def test_a_changed_row_is_not_overwritten_by_the_rotation() -> None:
    """Compare-and-swap: a key erased between the read and the write stays erased."""
    created = factories.report()
    keyfiles.begin_rotation(_key_dir())
    column = rotation.WRAPPED[0]
    rows = rotation._old_rows(column, 1, None, 10)
    ReportKey.objects.filter(report=created.report).delete()  # retention erases meanwhile
    progress = rotation.Progress()
    assert rows
    rotation._rewrap_column(column, 1, 2, 10, 0.0, progress)
    assert progress.rewrapped == 0
    assert not ReportKey.objects.filter(report=created.report).exists()
