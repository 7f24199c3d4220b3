"""The starter model in a new installation: it raises from the first report, its words are shown
as the installation model's are, administrators switch it off (audited), and the installation's
own model replaces it once trained."""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from tests import factories
from tests.cases.test_triage_model import MIN, decisions
from tests.console.helpers import signed_in
from tipline.audit.models import AuditEntry
from tipline.cases import triage_model
from tipline.cases.models import Report, TriageResult
from tipline.cases.policies import NotAllowed
from tipline.cases.tasks import triage_report
from tipline.triage import learned, starter

pytestmark = pytest.mark.django_db

# A reported threat in words the rules rate below P2 (tests/triage/test_starter.py).
TEXT = "He said he knows where she lives and tonight she will learn her lesson."


def _triaged(text: str = TEXT) -> tuple[Report, TriageResult]:
    # "other": no category points, so the rules' tier is the words' alone.
    report = factories.report(category="other", text=text, details={"handles": []}).report
    triage_report.call(str(report.id))
    report.refresh_from_db()
    return report, TriageResult.objects.get(report=report)


def _switches() -> list[dict[str, Any]]:
    return [
        {"actor": e.actor, **e.details}
        for e in AuditEntry.objects.filter(action="triage.starter").order_by("seq")
    ]


def test_a_new_installation_is_raised_by_the_starter_and_shows_its_words() -> None:
    assert triage_model.starter_enabled()
    report, result = _triaged()
    assert result.model_mode == "on"
    assert result.model_version == starter.version()
    assert result.rules_tier in ("P3", "P4")
    assert result.tier == result.model_tier == report.tier
    assert result.tier in ("P1", "P2")
    triaged = AuditEntry.objects.filter(action="report.triaged").latest("seq").details
    assert triaged["model"]["version"] == starter.version()
    assert "lesson" not in str(triaged)  # the audit log never holds the words
    # The case view shows the starter as it shows an installation's model: its words marked.
    client, _ = signed_in("ana")
    page = client.get(f"/console/reports/{report.id}/").content.decode()
    assert "Learned model" in page
    panel = page[page.index('id="model-heading"') :]
    # The panel lists the model's words first (the highlight legend, further on, has one too).
    words = re.findall(r'<mark class="model-span">([^<]*)</mark>', panel)[: learned.EXPLAIN_WORDS]
    assert "knows" in words
    assert all(word.lower() in TEXT.lower() for word in words), words


def test_switched_off_the_starter_runs_no_model_and_every_switch_is_audited() -> None:
    admin = factories.staff("root", "admin").user
    for role in ("analyst", "supervisor"):
        with pytest.raises(NotAllowed):
            triage_model.starter_set(actor=factories.staff(f"x-{role}", role).user, on=False)
    assert triage_model.starter_enabled()
    triage_model.starter_set(actor=admin, on=False)
    _report, result = _triaged()
    assert (result.model_mode, result.model_tier, result.model_version) == ("", "", "")
    assert result.tier == result.rules_tier
    call_command("triage", "starter", "on")
    triage_model.starter_set(actor=admin, on=True)  # audited even when nothing changes
    assert _switches() == [
        {"actor": "root", "on": [True, False]},
        {"actor": "cli", "on": [False, True]},
        {"actor": "root", "on": [True, True]},
    ]
    assert triage_model.model_in_use() is not None


def test_the_console_switch_is_for_administrators_only() -> None:
    client, _ = signed_in("boss", "admin")
    page = client.get("/console/triage-model/").content.decode()
    assert "Starter model" in page
    assert client.post("/console/triage-model/starter/", {"starter": "maybe"}).status_code == 400
    assert triage_model.starter_enabled()
    answer = client.post("/console/triage-model/starter/", {"starter": "off"})
    assert answer.status_code == 302
    assert not triage_model.starter_enabled()
    assert _switches() == [{"actor": "boss", "on": [True, False]}]
    analyst, _ = signed_in("ana")
    assert analyst.post("/console/triage-model/starter/", {"starter": "on"}).status_code == 404
    assert not triage_model.starter_enabled()


def test_the_installations_own_model_replaces_the_starter() -> None:
    decisions()
    triage_model.model_train(actor="cli", min_class=MIN)
    in_use = triage_model.model_in_use()
    assert in_use is not None
    assert not in_use[0].version.startswith("starter-")
    assert in_use[1] == "shadow"
    _report, result = _triaged()
    assert result.model_mode == "shadow"
    assert not result.model_version.startswith("starter-")
    assert result.tier == result.rules_tier  # shadow: the starter no longer raises


def test_the_command_line_shows_the_starter_and_evaluates_with_it(tmp_path: Any) -> None:
    out = StringIO()
    call_command("triage", "starter", stdout=out)
    assert out.getvalue().strip() == f"starter model {starter.version()}: on"
    examples = tmp_path / "few.jsonl"
    examples.write_text(
        '{"text": "' + TEXT + '", "tier": "P2", "lang": "en"}\n'
        '{"text": "The parcel arrived late again.", "tier": "P4", "lang": "en"}\n',
        encoding="utf-8",
    )
    alone, both = StringIO(), StringIO()
    call_command("triage", "eval", str(examples), stdout=alone)
    call_command("triage", "eval", str(examples), "--starter", stdout=both)
    assert "rules and the starter model together" in both.getvalue()
    last_alone = alone.getvalue().splitlines()[-1]
    last_both = both.getvalue().splitlines()[-1]
    assert json.loads(last_both)["by_lang"]["en"]["rates"]["exact"]["hits"] == 2
    assert json.loads(last_alone)["by_lang"]["en"]["rates"]["exact"]["hits"] == 1
