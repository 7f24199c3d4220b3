"""A liaison downloads the referral package of a report referred to their agency (console)."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.console.helpers import signed_in
from tests.outputs import helpers
from tipline.audit.models import AuditEntry
from tipline.cases.models import ReportKey
from tipline.crypto import minisign

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (shutil.which("minisign") and shutil.which("age")),
        reason="Debian's minisign and age are in the Makefile's APT_PACKAGES",
    ),
]


def _url(report: object) -> str:
    return f"/console/reports/{report.pk}/referral-package"  # type: ignore[attr-defined]


def test_a_liaison_downloads_a_package_that_both_verifiers_accept(tmp_path: Path) -> None:
    key = helpers.agency_key()
    helpers.agency(key=key)
    report = helpers.referred_report(files=2)
    client, liaison = signed_in("lee", "liaison", agency=helpers.AGENCY)

    page = client.get(f"/console/reports/{report.pk}/")
    assert b"Download the referral package" in page.content
    response = client.post(_url(report))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    assert f'filename="referral-{report.pk}.zip"' in response["Content-Disposition"]
    download = tmp_path / "download.zip"
    download.write_bytes(b"".join(response.streaming_content))  # type: ignore[attr-defined]

    with zipfile.ZipFile(download) as outer:
        assert sorted(outer.namelist()) == ["README.txt", "package.zip", "package.zip.minisig"]
        outer.extractall(tmp_path)
    pub = tmp_path / "hotline.pub"
    pub.write_text(minisign.public_key_file())
    checked = subprocess.run(
        ["minisign", "-V", "-p", str(pub), "-m", str(tmp_path / "package.zip")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    out = io.StringIO()
    call_command("referral", "verify", str(download), "--pubkey", str(pub), stdout=out)
    assert "package verified" in out.getvalue()

    entry = AuditEntry.objects.get(action="referral.download")
    assert entry.actor == liaison.username
    assert (
        entry.details["blake2b"]
        == hashlib.blake2b((tmp_path / "package.zip").read_bytes()).hexdigest()
    )
    assert entry.details["recipient"] == key.recipient


def test_caseworkers_and_other_agencies_get_no_package() -> None:
    helpers.agency(key=helpers.agency_key())
    report = helpers.referred_report(files=1)
    analyst, _user = signed_in("ana2", "analyst")
    answer = analyst.post(_url(report))
    assert answer.status_code == 403
    assert b"only a liaison of the agency" in answer.content
    assert (
        b"Download the referral package"
        not in analyst.get(f"/console/reports/{report.pk}/").content
    )
    other, _user = signed_in("max", "liaison", agency="Border Agency")
    assert other.post(_url(report)).status_code == 404  # not referred to them: not found
    assert other.get(_url(report)).status_code == 405
    assert not AuditEntry.objects.filter(action="referral.download").exists()


def test_no_agency_key_or_shredded_evidence_is_refused_with_the_reason() -> None:
    helpers.agency()  # no key
    report = helpers.referred_report(files=1)
    client, _user = signed_in("lee", "liaison", agency=helpers.AGENCY)
    answer = client.post(_url(report))
    assert answer.status_code == 403
    assert b"has no age public key" in answer.content

    helpers.agency(key=helpers.agency_key())
    ReportKey.objects.filter(report=report).delete()
    answer = client.post(_url(report))
    assert answer.status_code == 403
    assert b"crypto-shredded" in answer.content
    assert AuditEntry.objects.filter(action="referral.refused").count() == 2
    assert not AuditEntry.objects.filter(action="referral.download").exists()
