"""Done-when of issue 16 (referral packages), in a real browser against a real server.

A report with two evidence files is referred to an agency through the four-eyes path (two
analysts, through the same actions the console uses); an administrator sets the agency's age key
with `tipline agencies set-key`. The agency's liaison signs in with a real TOTP code, opens the
report and downloads its package. Then Debian's `minisign -V` and `tipline referral verify` accept
it, `age -d` with the agency's key yields files whose SHA-256 match the manifest, and one changed
byte makes both verifiers fail.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import watch
from tests.browser.test_console_casework import sign_in_and_enrol
from tests.browser.test_console_sign_in import check_console
from tests.live import TIPLINE, LiveServer
from tests.outputs import helpers

AGENCY = "National Police Cybercrime Unit"
PASSWORD = "quiet river lantern 2047"

# Runs in the server's own environment: a report with two files, referred by ana, confirmed by
# ben. The same actions the console's views call (the browser walk of this part is
# tests/browser/test_console_four_eyes.py).
REFER = textwrap.dedent(
    """
    import hashlib, io, django
    django.setup()
    from PIL import Image
    from tipline.cases import actions, review, transitions
    from tipline.cases.states import Outcome
    from tipline.evidence.validate import validate_upload
    from tipline.staff.models import StaffUser

    AGENCY = "National Police Cybercrime Unit"

    def png(colour):
        out = io.BytesIO()
        Image.new("RGB", (80, 60), colour).save(out, format="PNG")
        return out.getvalue()

    created = actions.report_create(
        category="sextortion", channel="web", language="en", contact=None,
        details={"what_happened": "He says he will post the photos unless I pay.", "urls": []},
        uploads=[
            validate_upload("chat-1.png", png("teal")),
            validate_upload("chat-2.png", png("plum")),
        ],
    )
    ana, ben = StaffUser.objects.get(username="ana"), StaffUser.objects.get(username="ben")
    report = actions.report_claim(actor=ana, report=created.report)
    review.classification_set(actor=ana, report=report, values={"legal_assessment": "national"})
    transitions.report_decide(actor=ana, report=report, outcome=Outcome.REFERRED, agency=AGENCY)
    transitions.report_confirm(actor=ben, report=report)
    print(report.id)
    """
)


def _tipline(server: LiveServer, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIPLINE, *args],
        input=stdin,
        env=server.env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _verifiers(package: Path, download: Path, pub: Path, server: LiveServer) -> tuple[int, int]:
    minisign = subprocess.run(
        ["minisign", "-V", "-p", str(pub), "-m", str(package)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    tipline = _tipline(server, "referral", "verify", str(download), "--pubkey", str(pub))
    return minisign.returncode, tipline.returncode


@pytest.mark.browser
@pytest.mark.skipif(
    not (shutil.which("minisign") and shutil.which("age") and shutil.which("age-keygen")),
    reason="Debian's minisign and age are in the Makefile's APT_PACKAGES",
)
def test_a_liaison_downloads_a_package_both_verifiers_accept_and_age_opens(
    browser: Browser, fresh_server: LiveServer, tmp_path: Path
) -> None:
    server = fresh_server
    for name, role in (("ana", "analyst"), ("ben", "analyst"), ("lee", "liaison")):
        extra = ["--agency", AGENCY] if role == "liaison" else []
        made = _tipline(
            server,
            "staff",
            "create",
            "--username",
            name,
            "--role",
            role,
            *extra,
            stdin=PASSWORD + "\n",
        )
        assert made.returncode == 0, made.stderr
    identity = tmp_path / "agency.key"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    recipient = subprocess.run(
        ["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True
    ).stdout.strip()
    set_key = _tipline(server, "agencies", "set-key", AGENCY, recipient)
    assert set_key.returncode == 0, set_key.stderr
    referred = subprocess.run(
        [TIPLINE[0], "-c", REFER],
        env=server.env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert referred.returncode == 0, referred.stderr
    report_id = referred.stdout.strip().splitlines()[-1]

    liaison = watch(browser, server.url)
    page = liaison.page
    sign_in_and_enrol(page, server.url, "lee")
    page.goto(f"{server.url}/console/reports/{report_id}/")
    expect(page.locator("#referral-package")).to_contain_text(AGENCY)
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Download the referral package").click()
    download = tmp_path / "download.zip"
    waiting.value.save_as(download)
    assert waiting.value.suggested_filename == f"referral-{report_id}.zip"
    check_console(liaison)
    liaison.context.close()

    with zipfile.ZipFile(download) as outer:
        outer.extractall(tmp_path / "got")
    package = tmp_path / "got" / "package.zip"
    pub = tmp_path / "hotline.pub"
    pub.write_text(_tipline(server, "referral", "pubkey").stdout)
    assert _verifiers(package, download, pub, server) == (0, 0)

    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(unpacked)
    helpers.age_decrypt_all(unpacked, identity)
    manifest = dict(
        reversed(line.split("  ", 1))
        for line in (unpacked / "manifest.sha256").read_text().splitlines()
    )
    for original in ("evidence/01.png", "evidence/02.png"):
        digest = hashlib.sha256((unpacked / original).read_bytes()).hexdigest()
        assert manifest[original] == digest, original
    checked = subprocess.run(
        ["sha256sum", "-c", "manifest.sha256"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout

    audit = _tipline(server, "audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr

    # One changed byte: both verifiers refuse, the bare package and the download alike.
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0x01
    package.write_bytes(bytes(data))
    with zipfile.ZipFile(tmp_path / "tampered.zip", "w") as outer:
        outer.write(package, "package.zip")
        outer.write(tmp_path / "got" / "package.zip.minisig", "package.zip.minisig")
    minisign_rc, tipline_rc = _verifiers(package, tmp_path / "tampered.zip", pub, server)
    assert minisign_rc != 0
    assert tipline_rc != 0
