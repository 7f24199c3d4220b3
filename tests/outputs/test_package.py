"""Referral packages end to end: built from a referred report, checked with Debian's `minisign`,
`sha256sum` and `age` (independent tools, no Tipline) and with `tipline referral verify`."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.outputs import helpers
from tipline.audit.chain import verify as verify_chain
from tipline.audit.models import AuditEntry
from tipline.cases.models import EvidenceFile, ReportKey
from tipline.crypto import minisign
from tipline.outputs import verify

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (shutil.which("minisign") and shutil.which("age")),
        reason="Debian's minisign and age are in the Makefile's APT_PACKAGES",
    ),
]


def _export(report: object, tmp_path: Path, agency: str = helpers.AGENCY) -> Path:
    (tmp_path / "out").mkdir(exist_ok=True)
    out = tmp_path / "out" / "package.zip"
    call_command(
        "referral",
        "package",
        str(report.pk),
        "--agency",
        agency,
        "--out",
        str(out),  # type: ignore[attr-defined]
        stdout=io.StringIO(),
    )
    return out


def _pubkey(tmp_path: Path) -> Path:
    path = tmp_path / "hotline.pub"
    path.write_text(minisign.public_key_file())
    return path


def _minisign(package: Path, pub: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["minisign", "-V", "-H", "-p", str(pub), "-m", str(package)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _tipline_verify(package: Path, pub: Path, *extra: str) -> str:
    out = io.StringIO()
    call_command(
        "referral",
        "verify",
        str(package),
        "--pubkey",
        str(pub),
        *extra,
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue()


def test_a_package_verifies_with_debians_tools_and_decrypts_to_the_intake_hashes(
    tmp_path: Path,
) -> None:
    key = helpers.agency_key()
    helpers.agency(key=key)
    report = helpers.referred_report(files=2)
    package = _export(report, tmp_path)
    pub = _pubkey(tmp_path)

    checked = _minisign(package, pub)
    assert checked.returncode == 0, checked.stderr
    assert f"report:{report.id}" in checked.stdout
    assert "package verified" in _tipline_verify(package, pub)

    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(unpacked)
    names = sorted(str(p.relative_to(unpacked)) for p in unpacked.rglob("*") if p.is_file())
    assert names == [
        "content.json.age",
        "evidence/01.png.age",
        "evidence/02.png.age",
        "manifest.sha256",
        "report.json",
        "summary.pdf.age",
    ]
    # Before decryption every member checks; the originals are not there yet.
    first = subprocess.run(
        ["sha256sum", "-c", "--ignore-missing", "manifest.sha256"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=False,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    identity = tmp_path / "agency.key"
    identity.write_text(key.identity + "\n")
    identity.chmod(0o600)
    helpers.age_decrypt_all(unpacked, identity)
    # After decryption the manifest checks every original too: these are the intake hashes.
    full = subprocess.run(
        ["sha256sum", "-c", "manifest.sha256"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=False,
    )
    assert full.returncode == 0, full.stdout + full.stderr
    assert full.stdout.count(": OK") == 7
    intake = {f["sha256"] for f in json.loads((unpacked / "content.json").read_text())["evidence"]}
    assert intake == {
        hashlib.sha256((unpacked / f"evidence/0{i}.png").read_bytes()).hexdigest() for i in (1, 2)
    }
    assert (unpacked / "summary.pdf").read_bytes().startswith(b"%PDF-")
    content = json.loads((unpacked / "content.json").read_text())
    assert content["answers"]["what_happened"] == "He says he will post the photos unless I pay."
    assert [f["name"] for f in content["evidence"]] == ["chat-0.png", "chat-1.png"]
    assert "decrypted 2" in _tipline_verify(package, pub, "--identity", str(identity))


def test_report_json_follows_the_shipped_schema_and_carries_no_reporter_content(
    tmp_path: Path,
) -> None:
    helpers.agency(key=helpers.agency_key())
    report = helpers.referred_report(files=1)
    with zipfile.ZipFile(_export(report, tmp_path)) as archive:
        raw = archive.read("report.json")
    document = json.loads(raw)
    jsonschema.Draft202012Validator.check_schema(verify.schema(1))
    jsonschema.validate(document, verify.schema(1), cls=jsonschema.Draft202012Validator)
    for secret in (b"post the photos", b"chat-0.png", b"example.net"):
        assert secret not in raw, secret
    assert document["decision"]["proposed_by"] == "ana"
    assert document["decision"]["confirmed_by"] == "ben"
    actions = [event["action"] for event in document["custody"]]
    for step in (
        "report.received",
        "file.received",
        "report.claim",
        "report.classify",
        "report.review_requested",
        "report.decision_confirmed",
    ):
        assert step in actions, step
    seqs = [e["seq"] for e in document["custody"] if e["seq"] is not None]
    assert seqs == sorted(seqs)


def test_the_export_is_audited_with_the_package_digest(tmp_path: Path) -> None:
    helpers.agency(key=helpers.agency_key())
    report = helpers.referred_report(files=1)
    package = _export(report, tmp_path)
    entry = AuditEntry.objects.filter(action="referral.export").get()
    assert entry.actor == "cli"
    assert entry.target_id == str(report.id)
    b2sum = subprocess.run(["b2sum", str(package)], capture_output=True, text=True, check=True)
    assert entry.details["blake2b"] == b2sum.stdout.split()[0]
    assert entry.details["size"] == package.stat().st_size
    with zipfile.ZipFile(package) as archive:
        assert json.loads(archive.read("report.json"))["package"]["id"] == entry.details["package"]
    verify_chain()


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_one_changed_byte_fails_minisign_and_tipline_verify(tmp_path: Path, where: str) -> None:
    helpers.agency(key=helpers.agency_key())
    package = _export(helpers.referred_report(files=1), tmp_path)
    pub = _pubkey(tmp_path)
    data = bytearray(package.read_bytes())
    at = {"start": 40, "middle": len(data) // 2, "end": len(data) - 10}[where]
    data[at] ^= 0x01
    package.write_bytes(bytes(data))
    assert _minisign(package, pub).returncode != 0
    with pytest.raises(CommandError, match="does NOT verify"):
        _tipline_verify(package, pub)


def test_a_package_signed_by_another_key_is_refused(tmp_path: Path) -> None:
    helpers.agency(key=helpers.agency_key())
    package = _export(helpers.referred_report(files=1), tmp_path)
    other = tmp_path / "other.pub"
    subprocess.run(
        ["minisign", "-G", "-W", "-p", str(other), "-s", str(tmp_path / "other.key")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert _minisign(package, other).returncode != 0
    with pytest.raises(CommandError, match="does NOT verify"):
        _tipline_verify(package, other)


def test_an_agency_without_a_key_is_refused_with_the_reason(tmp_path: Path) -> None:
    helpers.agency()  # seeded from workflow.toml, no key yet
    report = helpers.referred_report(files=1)
    with pytest.raises(CommandError, match="has no age public key"):
        _export(report, tmp_path)
    assert not list((tmp_path / "out").iterdir()), "nothing is left behind"
    refused = AuditEntry.objects.get(action="referral.refused")
    assert "no age public key" in refused.details["reason"]


def test_shredded_evidence_is_refused(tmp_path: Path) -> None:
    helpers.agency(key=helpers.agency_key())
    report = helpers.referred_report(files=1)
    ReportKey.objects.filter(report=report).delete()  # what retention's erasure does
    with pytest.raises(CommandError, match="crypto-shredded"):
        _export(report, tmp_path)
    assert not list((tmp_path / "out").iterdir())


def test_a_damaged_evidence_object_is_refused_not_packaged(tmp_path: Path) -> None:
    helpers.agency(key=helpers.agency_key())
    report = helpers.referred_report(files=1)
    evidence = EvidenceFile.objects.get(report=report)
    evidence.object_id = "0" * 32
    evidence.save(update_fields=["object_id"])
    with pytest.raises(CommandError, match="missing from the evidence store"):
        _export(report, tmp_path)


def test_a_report_not_referred_to_that_agency_is_refused(tmp_path: Path) -> None:
    helpers.agency("Border Agency", key=helpers.agency_key())
    report = helpers.referred_report(files=1)
    with pytest.raises(CommandError, match="not referred to Border Agency"):
        _export(report, tmp_path, agency="Border Agency")
