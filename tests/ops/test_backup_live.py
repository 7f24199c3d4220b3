"""`tipline backup` and `tipline restore` against real installations (issue 19).

* A backup made while reporters file reports restores into a new data directory (and, under
  scripts/with-postgres, a new PostgreSQL database; with evidence on S3 (SeaweedFS), a new
  bucket): every report acknowledged before the backup began reads back, every report in the
  restored database decrypts with its files, and `tipline doctor` is clean. Debian's `age`
  opens the backup with the same identity.
* Crypto-shredding: a report erased after a backup is gone from later backups; the earlier backup
  holds its data key wrapped under the KEK of the day, and once that backup's key copy is deleted
  at the end of its retention (and the KEK rotated), nothing that remains opens it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from pyrage import x25519

from tests import factories
from tests.live import TIPLINE, LiveServer, _fresh_database_url
from tests.seaweed import SeaweedS3
from tipline.crypto import age

pytestmark = pytest.mark.server

# Run inside the restored installation: decrypt every report, its messages and its files.
READ_EVERYTHING = """
from tipline import crypto, storage
from tipline.cases import selectors
from tipline.cases.models import Report, EvidenceFile
from tipline.cases.sealing import report_key
from tipline.cases.states import KeyPurpose
reports = files = erased = 0
for report in Report.objects.all():
    if report.content_erased_at:
        erased += 1
        continue
    assert selectors.report_details(report)["what_happened"]
    selectors.report_thread(report)
    key = report_key(report.id, KeyPurpose.CONTENT)
    for f in EvidenceFile.objects.filter(report=report):
        data = crypto.open_sealed(key, storage.read_object(f.object_id),
                                  context=crypto.context("file", f.id, "data"))
        assert data[:8] == bytes.fromhex("89504e470d0a1a0a"), "not the PNG that was filed"
        files += 1
    reports += 1
print(f"READ {reports} {files} {erased}")
"""


def run(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIPLINE, *args],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def ok(server: LiveServer, *args: str) -> str:
    result = run(server, *args)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def key_pair(path: Path) -> str:
    """An offline age key pair: the identity file (as age-keygen writes it) and its recipient."""
    identity = x25519.Identity.generate()
    path.write_text(f"# created for a test\n{identity}\n")
    path.chmod(0o600)
    return str(identity.to_public())


def file_report(client: httpx.Client, n: int) -> tuple[str, str]:
    answer = client.post(
        "/api/v1/reports",
        data={"category": "cyberstalking", "what_happened": f"Report {n}: messages every night."},
        files={"attachments": (f"screenshot-{n}.png", factories.png_bytes(colour="olive"))},
    )
    assert answer.status_code == 201, answer.text
    receipt = answer.json()["receipt"]
    body = f"Follow-up {n}: a new account wrote."
    sent = client.post("/api/v1/followup/messages", json={"receipt": receipt, "body": body})
    assert sent.status_code == 201, sent.text
    return receipt, body


def thread_of(client: httpx.Client, receipt: str) -> httpx.Response:
    return client.post("/api/v1/followup/status", json={"receipt": receipt})


def new_installation(root: Path, extra_env: dict[str, str] | None = None) -> LiveServer:
    """A new machine: an empty data directory (no keys yet); on PostgreSQL, an empty database."""
    server = LiveServer(root=root, extra_env=extra_env or {})
    server.data_dir.mkdir(parents=True)
    server.log_dir.mkdir(parents=True)
    server.database_url = _fresh_database_url()
    return server


def evidence_store(request: pytest.FixtureRequest, where: str) -> dict[str, str]:
    """The environment that puts an installation's evidence on a new bucket of the session's
    S3 server (``where == "s3"``), or the local store in its data directory (said, not left
    to the environment: on the scale-out profile the run's environment names the run's bucket)."""
    if where == "local":
        return {"TIPLINE_STORAGE": "local"}
    server: SeaweedS3 = request.getfixturevalue("seaweed_server")
    return server.settings_for(server.new_bucket())


# On S3 the restore goes to a new data directory and a new, empty bucket: a new machine that
# shares nothing with the old one but the backup and its offline keys.
@pytest.mark.parametrize("where", ["local", "s3"])
def test_a_backup_made_under_load_restores_and_every_report_reads_back(
    tmp_path: Path, request: pytest.FixtureRequest, where: str
) -> None:
    source = LiveServer(root=tmp_path / "source", extra_env=evidence_store(request, where))
    source.setup()
    source.start(workers=2)
    backup_id, backup_to = tmp_path / "backup.id", key_pair(tmp_path / "backup.id")
    keys_id, keys_to = tmp_path / "keys.id", key_pair(tmp_path / "keys.id")
    dest = tmp_path / "backup"
    during: list[tuple[str, str]] = []
    stop = threading.Event()
    try:
        with httpx.Client(base_url=source.url, timeout=60) as client:
            before = [file_report(client, n) for n in range(12)]

        def load() -> None:
            with httpx.Client(base_url=source.url, timeout=60) as client:
                n = 100
                while not stop.is_set():
                    during.append(file_report(client, n))
                    n += 1

        thread = threading.Thread(target=load, daemon=True)
        thread.start()
        try:
            out = ok(source, "backup", str(dest), "--to", backup_to, "--keys-to", keys_to)
        finally:
            stop.set()
            thread.join(timeout=120)
    finally:
        source.stop()
    assert "key folder included" in out
    manifest = json.loads((dest / "backup.json").read_text())
    assert manifest["objects"] >= 12
    assert manifest["kek_ids"] == [1]
    # Nothing in the backup is readable without the backup key; Debian's age opens it.
    for path in dest.rglob("*.age"):
        assert path.read_bytes().startswith(b"age-encryption.org/v1")
    opened = subprocess.run(
        ["age", "--decrypt", "-i", str(backup_id), str(dest / "database.age")],
        capture_output=True,
        check=True,
    )
    if manifest["engine"] == "sqlite":
        assert opened.stdout.startswith(b"SQLite format 3\x00")
    else:
        assert opened.stdout.startswith(b"PGDMP")

    target = new_installation(tmp_path / "target", evidence_store(request, where))
    out = ok(
        target, "restore", str(dest), "--identity", str(backup_id), "--keys-identity", str(keys_id)
    )
    assert "restored" in out
    ok(target, "migrate", "--no-input", "-v", "0")
    doctor = ok(target, "doctor", "--grace-minutes", "0")
    assert "no problems found" in doctor
    read = ok(target, "shell", "-c", READ_EVERYTHING)
    reports, files, _erased = (int(x) for x in read.split("READ ")[1].split())
    assert reports >= len(before)
    assert files == reports  # one PNG each, decrypted
    if where == "s3":
        # The objects came back into the new bucket: each file (and its preview, once the media
        # task had made it), and nothing the restored database does not name (doctor above).
        server: SeaweedS3 = request.getfixturevalue("seaweed_server")
        restored = server.object_keys(target.extra_env["TIPLINE_S3_BUCKET"])
        assert files <= len(restored) <= manifest["objects"]

    target.start(workers=1)
    try:
        with httpx.Client(base_url=target.url, timeout=60) as client:
            for receipt, body in before:
                answer = thread_of(client, receipt)
                assert answer.status_code == 200
                assert [m["body"] for m in answer.json()["messages"]] == [body]
            # Reports filed while the backup ran are in it whole, or not at all.
            present = 0
            for receipt, body in during:
                answer = thread_of(client, receipt)
                assert answer.status_code in (200, 404)
                if answer.status_code == 200:
                    present += 1
                    assert [m["body"] for m in answer.json()["messages"]] in ([body], [])
            assert reports == len(before) + present
    finally:
        target.stop()


def test_restore_refuses_the_wrong_identity_and_a_used_data_directory(tmp_path: Path) -> None:
    source = LiveServer(root=tmp_path / "source")
    source.setup()
    backup_id, backup_to = tmp_path / "backup.id", key_pair(tmp_path / "backup.id")
    wrong_id = tmp_path / "wrong.id"
    key_pair(wrong_id)
    dest = tmp_path / "backup"
    ok(source, "backup", str(dest), "--to", backup_to)
    # The same key for the data and the key folder would let one key open everything.
    same = run(source, "backup", str(tmp_path / "b2"), "--to", backup_to, "--keys-to", backup_to)
    assert same.returncode != 0
    assert "another key" in same.stderr

    # Over the source's own (used) data directory: refused, nothing touched.
    refused = run(source, "restore", str(dest), "--identity", str(backup_id))
    assert refused.returncode != 0
    assert "restore into a new" in refused.stderr

    target = new_installation(tmp_path / "target")
    ok(target, "keys", "init")  # keys of its own: not those the backup needs
    mismatch = run(target, "restore", str(dest), "--identity", str(backup_id))
    assert mismatch.returncode != 0
    assert "does not hold the keys this backup was sealed under" in mismatch.stderr

    shutil.rmtree(target.data_dir / "keys")
    shutil.copytree(source.data_dir / "keys", target.data_dir / "keys")
    wrong = run(target, "restore", str(dest), "--identity", str(wrong_id))
    assert wrong.returncode != 0
    assert "age decryption failed" in wrong.stderr

    # A damaged backup file is named before anything is restored.
    (dest / "database.age").write_bytes(b"age-encryption.org/v1\nnot really\n")
    damaged = run(target, "restore", str(dest), "--identity", str(backup_id))
    assert damaged.returncode != 0
    assert "database.age is missing or damaged" in damaged.stderr


ERASE = """
from datetime import timedelta
from django.utils import timezone
from tipline.cases.models import Report
Report.objects.filter(pk="{pk}").update(
    state="closed", outcome="not_actionable", closed_at=timezone.now() - timedelta(days=3650)
)
"""

REPORT_IDS = """
from tipline.cases.models import Report
for r in Report.objects.order_by("created_at"):
    print("ID", r.pk)
"""


def _report_ids(server: LiveServer) -> list[str]:
    out = ok(server, "shell", "-c", REPORT_IDS)
    return [line.split()[1] for line in out.splitlines() if line.startswith("ID ")]


def test_a_report_erased_after_a_backup_stays_erased(tmp_path: Path) -> None:
    source = LiveServer(root=tmp_path / "source")
    source.setup()
    source.start(workers=1)
    try:
        with httpx.Client(base_url=source.url, timeout=60) as client:
            kept = file_report(client, 1)
            erased = file_report(client, 2)
    finally:
        source.stop()
    keep_id, erase_id = _report_ids(source)
    backup_id, backup_to = tmp_path / "backup.id", key_pair(tmp_path / "backup.id")
    keys_id, keys_to = tmp_path / "keys.id", key_pair(tmp_path / "keys.id")
    before = tmp_path / "before"
    ok(source, "backup", str(before), "--to", backup_to, "--keys-to", keys_to)

    # Retention erases the second report (its keys are deleted), then the KEK is rotated.
    ok(source, "shell", "-c", ERASE.format(pk=erase_id))
    ok(source, "retention", "run", "--apply")
    ok(source, "keys", "rotate", "--grace", "0")
    after = tmp_path / "after"
    ok(source, "backup", str(after), "--to", backup_to, "--keys-to", keys_to)

    # A backup made after the erasure restores without it.
    target = new_installation(tmp_path / "target")
    ok(target, "restore", str(after), "--identity", str(backup_id), "--keys-identity", str(keys_id))
    ok(target, "doctor", "--grace-minutes", "0")
    read = ok(target, "shell", "-c", READ_EVERYTHING)
    assert read.split("READ ")[1].split() == ["1", "1", "1"]
    target.start(workers=1)
    try:
        with httpx.Client(base_url=target.url, timeout=60) as client:
            assert thread_of(client, kept[0]).status_code == 200
            # The receipt still finds the report's state; its thread is gone with its key.
            gone = thread_of(client, erased[0])
            assert gone.status_code == 200
            assert gone.json()["messages"] == []
            assert erased[1] not in gone.text
    finally:
        target.stop()

    # The earlier backup, with its own key backup, still opens the erased report: this is what
    # its retention bounds.
    old = new_installation(tmp_path / "old")
    ok(old, "restore", str(before), "--identity", str(backup_id), "--keys-identity", str(keys_id))
    assert ok(old, "shell", "-c", READ_EVERYTHING).split("READ ")[1].split() == ["2", "2", "0"]
    # Its data with the keys that survive the rotation (the live keys folder, the same as in
    # the later key backup) is refused: they hold no kek-1, the only key its wrapped keys open.
    other = new_installation(tmp_path / "other")
    shutil.copytree(source.data_dir / "keys", other.data_dir / "keys")
    refused = run(other, "restore", str(before), "--identity", str(backup_id))
    assert refused.returncode != 0
    assert "kek-1.key" in refused.stderr
    later_keys = json.loads(age.decrypt((after / "keys.age").read_bytes(), _id(keys_id)))
    assert "kek-1.key" not in later_keys["files"]
    assert not (source.data_dir / "keys" / "kek-1.key").exists()
    assert keep_id != erase_id
    # The end of the earlier backup's retention: with it goes the last copy of kek-1.
    shutil.rmtree(before)
    shutil.rmtree(old.root)
    assert not any(tmp_path.rglob("kek-1.key"))


def _id(path: Path) -> str:
    with path.open("rb") as handle:
        return age.identity_from_file(handle)
