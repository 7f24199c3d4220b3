"""Done-when walkthrough of the matching issue, in a real browser against a real server.

Two banks are imported the way an operator would (`tipline hashes import`): a VICS JSON file and
an NCMEC-style XML file, both holding the PDQ hash of one benign reference photo. A reporter then
uploads an edited copy of that photo. The task worker hashes and matches it: the console marks
the file "Known material" with bank, classification and distance, the report's tier rises, and
the picture is not displayed until an analyst chooses to reveal it.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Watched, watch
from tests.browser.test_console_casework import create_analyst, sign_in_and_enrol
from tests.browser.test_console_sign_in import check_console, shoot
from tests.live import TIPLINE, LiveServer
from tests.pdq_data import pdq_data

PDQ_DATA = pdq_data()
ORIGINAL_PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"

pytestmark = pytest.mark.skipif(not PDQ_DATA.is_dir(), reason="PDQ reference photos not present")


@pytest.fixture
def console(browser: Browser, fresh_server: LiveServer) -> Iterator[tuple[Watched, LiveServer]]:
    watched = watch(browser, fresh_server.url)
    yield watched, fresh_server
    watched.context.close()


def import_bank(server: LiveServer, tmp: Path, name: str, fmt: str, body: str) -> None:
    source = tmp / f"{name}.{fmt}"
    source.write_text(body)
    done = subprocess.run(
        [
            *TIPLINE,
            "hashes",
            "import",
            "--bank",
            name,
            "--format",
            fmt,
            str(source),
            "--create",
            "--classification",
            "baseline",
        ],
        env=server.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.browser
def test_a_near_duplicate_upload_is_marked_known_and_not_shown(
    console: tuple[Watched, LiveServer], screenshot_dir: Path, tmp_path: Path
) -> None:
    w, server = console
    vics = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml",
        "value": [
            {
                "MediaID": 1,
                "Category": 1,
                "AlternativeHashes": [{"HashName": "PDQ", "HashValue": ORIGINAL_PDQ}],
            }
        ],
    }
    import_bank(server, tmp_path, "vics-bank", "vics", json.dumps(vics))
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><entries><entry id="9" classification="A2">'
        f'<fingerprints><fingerprint type="PDQ">{ORIGINAL_PDQ}</fingerprint></fingerprints>'
        "</entry></entries>"
    )
    import_bank(server, tmp_path, "ncmec-bank", "ncmec-xml", xml)

    photo = (PDQ_DATA / "bridge-mods" / "high-contrast.jpg").read_bytes()
    filed = httpx.post(
        server.url + "/api/v1/reports",
        data={"category": "other", "what_happened": "Someone keeps reposting this picture."},
        files=[("attachments", ("repost.jpg", photo, "image/jpeg"))],
    )
    assert filed.status_code == 201, filed.text
    create_analyst(server, "ana")
    page = w.page
    sign_in_and_enrol(page, w.base_url, "ana")

    deadline = time.monotonic() + 40
    while True:
        page.goto(w.base_url + "/console/queue/")
        tier = page.locator("table.queue tbody tr").first.locator(".tier").inner_text()
        if tier != "P4":  # "other" starts at P4; a known-material match raises it
            break
        assert time.monotonic() < deadline, "the file was not matched"
        time.sleep(0.5)
    assert tier in ("P1", "P2")
    page.locator("table.queue tbody tr").first.locator(".case-link").click()
    known = page.locator(".notice.known")
    expect(known).to_contain_text("Known material")
    expect(known).to_contain_text("vics-bank")
    expect(known).to_contain_text("ncmec-bank")
    expect(known).to_contain_text("PDQ distance")
    expect(page.locator("img.evidence-preview")).to_have_count(0)
    expect(page.locator("#triage")).to_contain_text("signal.known_hash")
    shoot(page, screenshot_dir, "case-known-material")
    page.get_by_role("button", name="Reveal anyway (recorded) repost.jpg").click()
    expect(page.locator("img.evidence-preview.revealed")).to_have_count(1)
    check_console(w)
