"""Signed checkpoints expose what the HMAC chain alone cannot: a cut tail and a rebuilt chain.

Issue 14, item 5: deleting the last 20 entries, or all of them, verified as "intact", and someone
holding audit.key could rebuild the whole chain. Each attack is reproduced first against the chain
alone (it passes), then against a checkpoint taken before it (it fails, naming the checkpoint).
"""

from __future__ import annotations

import asyncio
import base64
import io
import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import LazySettings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from nacl.signing import SigningKey

from tests.audit.tampering import entries, raw, rechain
from tests.live import free_port
from tipline.audit import checkpoints
from tipline.audit.chain import verify
from tipline.audit.models import AuditEntry
from tipline.audit.tasks import checkpoint_run, ensure_checkpoints_scheduled
from tipline.crypto import signing
from tipline.crypto.keyfiles import init_keys

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _checkpoint_places(settings: LazySettings, tmp_path: Path) -> None:
    # Outside the key folder, as production should have it (another disk, ideally).
    settings.TIPLINE_AUDIT_CHECKPOINT_DIR = tmp_path / "elsewhere" / "checkpoints"
    settings.TIPLINE_AUDIT_SYSLOG = "off"
    settings.TIPLINE_AUDIT_CHECKPOINT_EMAIL = []


@pytest.fixture
def syslog_receiver(settings: LazySettings) -> Iterator[socket.socket]:
    """A real syslog receiver: a UDP socket on 127.0.0.1 that the checkpoint is sent to."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    settings.TIPLINE_AUDIT_SYSLOG = f"udp:127.0.0.1:{receiver.getsockname()[1]}"
    yield receiver
    receiver.close()


def checkpoint() -> str:
    out = io.StringIO()
    call_command("audit", "checkpoint", stdout=out)
    return out.getvalue()


def verify_command(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", "verify", *args, stdout=out)
    return out.getvalue()


def log_lines() -> list[str]:
    return checkpoints.log_path().read_text().splitlines()


# --- the attacks of issue 14 ---------------------------------------------------------------------


def test_deleting_the_last_20_entries_fails_against_the_checkpoint() -> None:
    entries(30)
    checkpoint()
    raw("DELETE FROM audit_auditentry WHERE seq > %s", [10])
    assert verify().entries == 10  # the attack: the chain alone still verifies
    with pytest.raises(CommandError) as failed:
        verify_command()
    message = str(failed.value)
    assert "BROKEN at entry 11" in message
    assert "checkpoint of entry 30" in message
    assert "deleted from the end" in message


def test_deleting_every_entry_fails_against_the_checkpoint() -> None:
    entries(5)
    checkpoint()
    raw("DELETE FROM audit_auditentry", [])
    assert verify().entries == 0
    with pytest.raises(CommandError, match=r"BROKEN at entry 1: missing: the log ends at entry 0"):
        verify_command()


def test_a_chain_rebuilt_with_the_audit_key_fails_against_the_checkpoint() -> None:
    entries(30)
    checkpoint()
    raw("DELETE FROM audit_auditentry", [])
    entries(40, actor="someone_else")  # a whole new chain, made with audit.key, longer than before
    assert verify().entries == 40
    with pytest.raises(CommandError) as failed:
        verify_command()
    assert "BROKEN at entry 30" in str(failed.value)
    assert "differs from the checkpoint of entry 30" in str(failed.value)


def test_an_edit_before_the_checkpoint_rechained_with_the_key_fails() -> None:
    entries(12)
    checkpoint()
    raw("UPDATE audit_auditentry SET actor = %s WHERE seq = %s", ["someone_else", 4])
    rechain()
    assert verify().entries == 12
    with pytest.raises(CommandError, match="BROKEN at entry 12: hash differs from the checkpoint"):
        verify_command()


def test_every_checkpoint_counts_not_only_the_newest() -> None:
    entries(5)
    checkpoint()
    entries(5)
    checkpoint()
    raw("UPDATE audit_auditentry SET target_id = %s WHERE seq = %s", ["99", 2])
    rechain()
    # The rebuilt chain gets a fresh, validly signed checkpoint (the attacker has the key)...
    raw("DELETE FROM audit_auditentry WHERE seq > %s", [5])
    with pytest.raises(CommandError, match="BROKEN at entry 5"):
        verify_command()  # ...the older checkpoint of entry 5 still catches it


def test_an_intact_log_passes_and_says_what_is_not_yet_covered() -> None:
    entries(20)
    checkpoint()
    entries(3)
    out = verify_command()
    assert "intact: 23 entries" in out
    assert "matches 1 signed checkpoint(s)" in out
    assert "entries after 20 are not covered yet" in out


def test_without_checkpoints_verify_warns_that_a_cut_tail_would_not_show() -> None:
    entries(2)
    assert "no checkpoint to check against" in verify_command()


# --- taking checkpoints ---------------------------------------------------------------------------


def test_a_checkpoint_is_one_signed_line_in_a_log_outside_the_database() -> None:
    entries(3)
    checkpoint()
    checkpoint()
    first, second = log_lines()
    assert first.startswith("tipline-audit-checkpoint v1 seq=3 head=")
    parsed = checkpoints.parse_line(second)
    assert parsed is not None
    assert (parsed.seq, parsed.entries) == (3, 3)
    assert parsed.head == AuditEntry.objects.get(seq=3).entry_hash
    assert parsed.key_id == signing.key_id(signing.public_key())
    assert oct(checkpoints.log_path().stat().st_mode & 0o777) == "0o600"


def test_an_empty_log_can_be_checkpointed_and_verified() -> None:
    checkpoint()
    assert "seq=0 head=" + "0" * 64 in log_lines()[0]
    assert "intact: 0 entries" in verify_command()


def test_no_checkpoint_is_signed_over_a_log_cut_since_the_last_one(
    syslog_receiver: socket.socket,
) -> None:
    entries(25)
    checkpoint()
    syslog_receiver.recv(4096)  # the first checkpoint
    raw("DELETE FROM audit_auditentry WHERE seq > %s", [5])
    with pytest.raises(CommandError, match=r"no checkpoint taken.*entry 25"):
        checkpoint()
    assert len(log_lines()) == 1  # the truncated log was not blessed
    alert = syslog_receiver.recv(4096).decode()
    assert alert.startswith("<34>tipline-audit: ALERT: audit checkpoint refused")  # auth.crit
    assert "entry 25" in alert


def test_the_signing_key_is_not_the_audit_mac_key(settings: LazySettings) -> None:
    entries(1)
    checkpoint()
    key_dir = Path(settings.KEY_DIR)
    assert (key_dir / "audit-signing.key").read_bytes() != (key_dir / "audit.key").read_bytes()


# --- checking checkpoints -------------------------------------------------------------------------


def _replace_in_log(old: str, new: str) -> None:
    path = checkpoints.log_path()
    path.write_text(path.read_text().replace(old, new))


def test_an_altered_checkpoint_is_refused() -> None:
    entries(12)
    checkpoint()
    raw("DELETE FROM audit_auditentry WHERE seq > %s", [10])
    # The attacker edits the checkpoint to match the cut log: the signature no longer verifies.
    _replace_in_log(" seq=12 ", " seq=10 ")
    _replace_in_log(" entries=12 ", " entries=10 ")
    with pytest.raises(CommandError, match=r"checkpoint INVALID: .*:1: the signature of the"):
        verify_command()


@pytest.mark.parametrize(
    "damage",
    [
        lambda line: line.replace(" sig=", " sig=x"),
        lambda line: line.replace(" key=", " key=zz"),
        lambda line: line[:-10],
        lambda line: line.replace("entries=7", "entries=8"),
        lambda line: line + "A" * 5000,
    ],
)
def test_a_damaged_checkpoint_line_is_refused_with_its_line_number(damage: object) -> None:
    entries(7)
    checkpoint()
    path = checkpoints.log_path()
    (line,) = log_lines()
    path.write_text("a line of other text\n" + damage(line) + "\n")  # type: ignore[operator]
    with pytest.raises(CommandError, match=r"checkpoint INVALID: .*checkpoints\.log:2: "):
        verify_command()


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    entries(4)
    checkpoint()
    (line,) = log_lines()
    genuine = checkpoints.parse_line(line)
    assert genuine is not None
    intruder = SigningKey.generate()
    forged_id = signing.key_id(bytes(intruder.verify_key))
    forged = checkpoints.Checkpoint(
        seq=genuine.seq, head="f" * 64, entries=genuine.entries, time=genuine.time, key_id=forged_id
    )
    signature = intruder.sign(forged.message().encode()).signature
    checkpoints.log_path().write_text(
        checkpoints.Checkpoint(**{**forged.__dict__, "signature": signature}).line() + "\n"
    )
    with pytest.raises(CommandError, match=f"signed by key {forged_id}, not by"):
        verify_command()
    # Claiming our key id does not help: the signature is checked, not the label.
    own_id = signing.key_id(signing.public_key())
    claimed = checkpoints.Checkpoint(**{**forged.__dict__, "key_id": own_id})
    bad = intruder.sign(claimed.message().encode()).signature
    checkpoints.log_path().write_text(
        checkpoints.Checkpoint(**{**claimed.__dict__, "signature": bad}).line() + "\n"
    )
    with pytest.raises(CommandError, match="does not verify"):
        verify_command()


def test_verify_against_a_copy_with_the_published_key(tmp_path: Path) -> None:
    entries(6)
    checkpoint()
    copy = tmp_path / "auditor-copy.log"
    copy.write_text(checkpoints.log_path().read_text())
    pem = tmp_path / "tipline-audit.pem"
    pem.write_text(_pubkey_pem())
    checkpoints.log_path().unlink()  # the local log is gone; the auditor's copy still counts
    raw("DELETE FROM audit_auditentry WHERE seq > %s", [3])
    with pytest.raises(CommandError, match="checkpoint of entry 6"):
        verify_command("--against", str(copy), "--pubkey", str(pem))
    other = tmp_path / "other.pem"
    other.write_text(signing.public_key_pem(bytes(SigningKey.generate().verify_key)))
    with pytest.raises(CommandError, match="is signed by key"):
        verify_command("--against", str(copy), "--pubkey", str(other))


def test_verify_against_refuses_files_without_checkpoints(tmp_path: Path) -> None:
    empty = tmp_path / "notes.txt"
    empty.write_text("nothing here\n")
    with pytest.raises(CommandError, match="no checkpoint found in"):
        verify_command("--against", str(empty))
    with pytest.raises(CommandError, match="cannot read"):
        verify_command("--against", str(tmp_path / "missing.log"))
    binary = tmp_path / "binary.log"
    binary.write_bytes(b"\xff\xfe\x00tipline-audit-checkpoint v1 \xc3\x28\n")
    with pytest.raises(CommandError, match="not a well-formed one"):
        verify_command("--against", str(binary))
    odd_mail = tmp_path / "odd.eml"
    odd_mail.write_bytes(b"Subject: x\nContent-Type: text/plain; charset=klingon\n\nqapla\xff\n")
    with pytest.raises(CommandError, match="no checkpoint found in"):
        verify_command("--against", str(odd_mail))
    bad_pem = tmp_path / "bad.pem"
    bad_pem.write_text("-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n")
    with pytest.raises(CommandError, match="not a PEM public key"):
        verify_command("--against", str(empty), "--pubkey", str(bad_pem))


def _pubkey_pem() -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("audit", "pubkey", stdout=out, stderr=err)
    assert err.getvalue().strip() == f"key id {signing.key_id(signing.public_key())}"
    return out.getvalue()


def test_openssl_verifies_a_checkpoint_with_the_published_key(tmp_path: Path) -> None:
    """Independent of Tipline: the published PEM and OpenSSL are all an auditor needs."""
    entries(2)
    checkpoint()
    (line,) = log_lines()
    message, _, signature = line.rpartition(" sig=")
    (tmp_path / "key.pem").write_text(_pubkey_pem())
    (tmp_path / "message").write_bytes(message.encode())
    (tmp_path / "signature").write_bytes(base64.b64decode(signature))
    openssl = [
        "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "key.pem"),
        "-rawin", "-in", str(tmp_path / "message"), "-sigfile", str(tmp_path / "signature"),
    ]  # fmt: skip
    verified = subprocess.run(openssl, capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stderr
    assert "Signature Verified Successfully" in verified.stdout
    (tmp_path / "message").write_bytes(message.replace("seq=2", "seq=1").encode())
    refused = subprocess.run(openssl, capture_output=True, text=True, check=False)
    assert refused.returncode != 0


# --- syslog and e-mail ----------------------------------------------------------------------------


def test_a_checkpoint_reaches_a_real_syslog_receiver_and_verifies_from_there(
    syslog_receiver: socket.socket, tmp_path: Path
) -> None:
    entries(8)
    out = checkpoint()
    assert "syslog: sent (127.0.0.1:" in out
    datagram = syslog_receiver.recv(4096).decode()
    assert datagram.startswith("<38>tipline-audit: tipline-audit-checkpoint v1 seq=8 ")  # auth.info
    saved = tmp_path / "syslog"
    saved.write_text(f"Dec  1 10:00:00 host {datagram.rstrip(chr(0))}\n")
    raw("DELETE FROM audit_auditentry WHERE seq > %s", [2])
    with pytest.raises(CommandError, match="checkpoint of entry 8"):
        verify_command("--against", str(saved))


def test_an_unreachable_place_is_reported_and_the_others_still_get_it(
    settings: LazySettings, tmp_path: Path
) -> None:
    entries(1)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    settings.TIPLINE_AUDIT_CHECKPOINT_DIR = blocker / "checkpoints"
    settings.TIPLINE_AUDIT_SYSLOG = str(tmp_path / "no-such-socket")
    out = io.StringIO()
    with pytest.raises(CommandError, match="not sent everywhere"):
        call_command("audit", "checkpoint", stdout=out)
    assert "tipline-audit-checkpoint v1 seq=1 " in out.getvalue()  # signed all the same
    assert "file: failed" in out.getvalue()
    assert "syslog: failed" in out.getvalue()
    assert "email: skipped" in out.getvalue()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(BytesParser().parsebytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_inbox(settings: LazySettings) -> Iterator[_Inbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, and settings that send to it."""
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    settings.TIPLINE_AUDIT_CHECKPOINT_EMAIL = ["auditor@hotline.example"]
    yield inbox
    controller.stop()
    asyncio.set_event_loop(None)


def test_a_checkpoint_is_mailed_to_the_auditor_and_the_mail_verifies(
    smtp_inbox: _Inbox, tmp_path: Path
) -> None:
    entries(9)
    assert "email: sent (auditor@hotline.example)" in checkpoint()
    (mail,) = smtp_inbox.messages
    assert mail["To"] == "auditor@hotline.example"
    assert mail["Subject"] == "Tipline audit checkpoint: entry 9"
    saved = tmp_path / "mail.eml"
    saved.write_bytes(mail.as_bytes())
    assert "matches 1 signed checkpoint(s)" in verify_command("--against", str(saved))
    raw("DELETE FROM audit_auditentry WHERE seq > %s", [1])
    with pytest.raises(CommandError, match="checkpoint of entry 9"):
        verify_command("--against", str(saved))
    with pytest.raises(CommandError):
        checkpoint()
    alert = smtp_inbox.messages[-1]
    assert alert["Subject"] == "Tipline audit log ALERT"


# --- the schedule ---------------------------------------------------------------------------------


def _pending() -> list[object]:
    from django_tasks_db.models import DBTaskResult

    return list(DBTaskResult.objects.filter(task_path=checkpoint_run.module_path, status="READY"))


def test_the_task_checkpoints_and_schedules_the_next_run(settings: LazySettings) -> None:
    settings.TIPLINE_AUDIT_CHECKPOINT_MINUTES = 60
    entries(4)
    before = timezone.now()
    result = checkpoint_run.call()
    assert result == {"checkpoint": "4", "file": "sent", "syslog": "skipped", "email": "skipped"}
    assert "seq=4" in log_lines()[0]
    (next_run,) = _pending()
    assert before + timedelta(minutes=60) <= next_run.run_after  # type: ignore[attr-defined]
    checkpoint_run.call()
    assert len(_pending()) == 1  # one chain of runs, never two
    raw("DELETE FROM audit_auditentry WHERE seq > %s", [1])
    assert checkpoint_run.call()["checkpoint"] == "refused"
    assert len(log_lines()) == 2


def test_serve_starts_the_schedule_once_and_zero_minutes_turns_it_off(
    settings: LazySettings,
) -> None:
    settings.TIPLINE_AUDIT_CHECKPOINT_MINUTES = 0
    assert ensure_checkpoints_scheduled() is False
    settings.TIPLINE_AUDIT_CHECKPOINT_MINUTES = 60
    assert ensure_checkpoints_scheduled() is True
    assert ensure_checkpoints_scheduled() is False


# --- the database itself ------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger is PostgreSQL-only")
def test_postgresql_refuses_truncate() -> None:
    entries(2)
    with transaction.atomic(), connection.cursor() as cursor:
        # Test sessions may truncate (tests/settings.py); an application session may not.
        cursor.execute("SET LOCAL tipline.audit_truncate = ''")
        with pytest.raises(DatabaseError, match=r"append-only \(TRUNCATE refused\)"):
            cursor.execute("TRUNCATE audit_auditentry")
    assert verify().entries == 2


def test_a_replaced_signing_key_refuses_old_checkpoints_until_the_log_is_moved(
    settings: LazySettings, tmp_path: Path
) -> None:
    entries(3)
    checkpoint()
    old_pem = tmp_path / "old.pem"
    old_pem.write_text(_pubkey_pem())
    # The signing key is lost: `tipline keys init` makes a new one (the same MAC key stays).
    new_keys = tmp_path / "new-keys"
    shutil.copytree(settings.KEY_DIR, new_keys)
    (new_keys / "audit-signing.key").unlink()
    init_keys(new_keys, stored_data="the database holds an audit log")
    settings.KEY_DIR = new_keys
    with pytest.raises(CommandError, match=r"no checkpoint taken: .* is signed by key"):
        checkpoint()
    moved = tmp_path / "old-checkpoints.log"
    checkpoints.log_path().rename(moved)
    assert "seq=3" in checkpoint()
    assert "matches 1 signed checkpoint(s)" in verify_command(
        "--against", str(moved), "--pubkey", str(old_pem)
    )
