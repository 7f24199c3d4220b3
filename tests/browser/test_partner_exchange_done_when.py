"""Issue 17's "done when", end to end, in one test, against two real Tipline installations.

A platform's client, written from NCMEC's published protocol (``tests/interop/ncmec_client.py``),
submits a report with two files to hotline A's ``/ispws`` and finishes it. A's task worker files
it and matches both files against a bank; it is in A's queue. An analyst of A, in a real browser,
claims it and forwards it to hotline B (a second installation: its own data directory, database,
port and task workers). B files it; a supervisor of B closes it; B's outcome task sends the
outcome back and A's case page shows it. Meanwhile the platform's webhook receiver (a real HTTPS
server on loopback, verifying ``Tipline-Signature`` as docs/deployment.md describes it, without
Tipline's signing code) gets the report's status changes. Last, B pulls A's bank over HTTP
(``tipline hashpull``) and matches the same file.

Every wait polls a condition with a deadline (the machine is shared and slow); the browser waits
for each navigation before it acts on the new page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import watch
from tests.browser.test_console_casework import create_analyst, sign_in_and_enrol
from tests.interop.ncmec_client import CyberTiplineClient, file_details_xml, report_xml
from tests.live import TIPLINE, LiveServer
from tests.pdq_data import pdq_data

PDQ_DATA = pdq_data()
BRIDGE_PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
C_PNG_PDQ = "e64cc9d91e623842f8d1f1d9a398e78c9f199a3bd87924f2b7e11e0bf061b064"
PASSWORD = "quiet river lantern 2047"

pytestmark = [
    pytest.mark.server,
    pytest.mark.browser,
    pytest.mark.skipif(not PDQ_DATA.is_dir(), reason="PDQ reference photos not present"),
]


# --- helpers -------------------------------------------------------------------------------------


def tipline(server: LiveServer, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [*TIPLINE, *args], env=server.env(), input=stdin, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def shell(server: LiveServer, code: str) -> Any:
    """Run ``code`` inside that installation; it prints one JSON value as its last line."""
    return json.loads(tipline(server, "shell", "-c", code).strip().splitlines()[-1])


def wait_for(what: str, probe: Callable[[], Any], *, seconds: float = 120) -> Any:
    """Poll ``probe`` until it returns something true; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


# --- the platform's webhook receiver, from the documentation only --------------------------------


@dataclass
class Receiver:
    """HTTPS on loopback. Verifies ``Tipline-Signature: t=<unix>,v1=<hex>`` as HMAC-SHA256 with
    the shared secret over ``t + "." + body``, in constant time, within 300 s of its clock, and
    drops repeated ``Tipline-Delivery`` ids; answers 204 to good deliveries, 401 to others."""

    cert: Path
    key: Path
    secret: str = ""
    verified: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    seen: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, signature: str, body: bytes) -> bool:
        try:
            parts = dict(p.split("=", 1) for p in signature.split(","))
            stamp = int(parts["t"])
        except (KeyError, ValueError):
            return False
        mac = hmac.new(self.secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256)
        fresh = abs(time.time() - stamp) <= 300
        return fresh and hmac.compare_digest(mac.hexdigest(), parts.get("v1", ""))

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                good = receiver.check(self.headers.get("Tipline-Signature", ""), body)
                with receiver.lock:
                    if not good:
                        receiver.refused += 1
                    elif (
                        delivery := self.headers.get("Tipline-Delivery", "")
                    ) not in receiver.seen:
                        receiver.seen.add(delivery)
                        receiver.verified.append(json.loads(body))
                self.send_response(204 if good else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        self.http.socket = context.wrap_socket(self.http.socket, server_side=True)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"https://localhost:{self.http.server_address[1]}/hooks/tipline"

    def statuses(self) -> list[str]:
        with self.lock:
            return [d["report"]["status"] for d in self.verified]

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


# --- the two installations -----------------------------------------------------------------------


@dataclass
class World:
    a: LiveServer
    b: LiveServer
    receiver: Receiver
    ispws: tuple[str, str]  # the platform's Basic credential at A
    hashes_token: Path  # B's token for A's bank changes


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    cert, key = _certificate(tmp_path)
    common = {"TIPLINE_EXCHANGE_ALLOW_HTTP": "1", "TIPLINE_EXCHANGE_OUTCOME_SECONDS": "1"}
    a = LiveServer(
        root=tmp_path / "a",
        extra_env={
            **common,
            "TIPLINE_HOTLINE_NAME": "Hotline A",
            "TIPLINE_SHARED_BANKS": "known",
            "TIPLINE_WEBHOOK_ALLOW_PRIVATE": "1",
            "TIPLINE_WEBHOOK_CA_FILE": str(cert),
        },
    )
    b = LiveServer(root=tmp_path / "b", extra_env={**common, "TIPLINE_HOTLINE_NAME": "Hotline B"})
    receiver = Receiver(cert=cert, key=key)
    receiver.start()
    started: list[LiveServer] = []
    try:
        for server in (a, b):
            server.setup()
        # A's bank: the PDQ hashes of the two reference photos the platform will send.
        vics = tmp_path / "bank.json"
        vics.write_text(
            json.dumps(
                {
                    "value": [
                        {"MediaID": n, "Category": 1,
                         "AlternativeHashes": [{"HashName": "PDQ", "HashValue": pdq}]}
                        for n, pdq in ((1, BRIDGE_PDQ), (2, C_PNG_PDQ))
                    ]
                }
            )
        )  # fmt: skip
        tipline(
            a, "hashes", "import", "--bank", "known", "--format", "vics", str(vics), "--create",
            "--classification", "baseline",
        )  # fmt: skip
        # The platform: a /ispws credential and its webhook.
        made = tipline(
            a, "credentials", "create", "--name", "Example Platform", "--kind", "partner",
            "--scope", "cybertipline",
        )  # fmt: skip
        username = re.search(r"^username: (\S+)$", made, re.M)
        password = re.search(r"^password: (\S+)$", made, re.M)
        assert username, made
        assert password, made
        credential_id = username.group(1).removeprefix("credential-")
        hook = tipline(a, "partners", "webhook", "set", "--credential", credential_id,
                       "--url", receiver.url)  # fmt: skip
        receiver.secret = hook.strip().splitlines()[-1]
        # Hotline B: a credential at A for A's bank changes.
        token = tipline(
            a, "credentials", "create", "--name", "Hotline B", "--kind", "partner",
            "--scope", "hashes",
        ).splitlines()[-1]  # fmt: skip
        token_file = tmp_path / "hashes-token"
        token_file.write_text(token + "\n")
        # The hotlines know each other: public keys, and each holds the token the other issued.
        keys = {s.port: tipline(s, "hotlines", "pubkey").strip() for s in (a, b)}
        issued = {}
        for here, there, name in ((a, b, "hotline-b"), (b, a, "hotline-a")):
            out = tipline(
                here, "hotlines", "add", name, "--url", there.url,
                "--public-key", keys[there.port], "--country", "GB" if here is a else "FR",
            )  # fmt: skip
            issued[(here.port, name)] = out.rsplit("(shown once): ", 1)[1].strip()
        tipline(a, "hotlines", "set-token", "hotline-b", stdin=issued[(b.port, "hotline-a")] + "\n")
        tipline(b, "hotlines", "set-token", "hotline-a", stdin=issued[(a.port, "hotline-b")] + "\n")
        create_analyst(a, "ana")
        shell(
            b,
            "from tipline.staff import actions\n"
            f"actions.staff_create(actor=None, username='sup', role='supervisor',"
            f" password={PASSWORD!r})\nprint('null')",
        )
        for server in (a, b):
            server.start(workers=1)
            started.append(server)
        yield World(a, b, receiver, (username.group(1), password.group(1)), token_file)
    finally:
        for server in started:
            server.stop()
        receiver.stop()


A_STATE = """
import json
from tipline.cybertipline.models import Submission
from tipline.matching.models import FileMatch
from tipline.exchange.models import Forwarding
from tipline.cases.models import EvidenceFile
s = Submission.objects.select_related("report").get(pk={rid})
r = s.report
m = FileMatch.objects.filter(evidence__report=r)
f = Forwarding.objects.filter(report=r).first()
print(json.dumps({{"report": str(r.id), "state": r.state,
  "files": EvidenceFile.objects.filter(report=r).count(),
  "matched": m.values("evidence").distinct().count(),
  "banks": sorted(set(m.values_list("entry__bank__name", flat=True))),
  "forwarded": f and {{"state": f.state, "ref": f.their_reference,
                       "outcome": [f.outcome_state, f.outcome]}}}}))
"""

B_RECEIVED = """
import json
from tipline.exchange.models import InboundForward
i = InboundForward.objects.select_related("report", "hotline").get(pk={ref!r})
print(json.dumps({{"report": str(i.report.id), "from": i.hotline.name,
                  "channel": i.report.channel, "contact": i.report.contact is not None}}))
"""

B_CLOSE = """
import json
from tipline.cases import actions, transitions
from tipline.cases.models import Report
from tipline.cases.states import Outcome
from tipline.staff.models import StaffUser
sup = StaffUser.objects.get(username="sup")
report = actions.report_claim(actor=sup, report=Report.objects.get(pk={report!r}))
transitions.report_decide(actor=sup, report=report, outcome=Outcome.OUTSIDE_REMIT)
report.refresh_from_db()
print(json.dumps([report.state, report.outcome]))
"""


def test_done_when(world: World, browser: Browser, tmp_path: Path) -> None:
    a, b, receiver = world.a, world.b, world.receiver
    photos = [PDQ_DATA / "bridge-mods" / "blur-a-lot.jpg", PDQ_DATA / "misc-images" / "c.png"]

    # 1. The platform submits a report with two files to A's /ispws and finishes it.
    client = CyberTiplineClient(a.url, *world.ispws)
    try:
        opened = client.submit(report_xml(urls=("https://files.example/album/7",)))
        assert opened.code == 0, opened
        rid = opened.report_id
        assert rid is not None
        for photo in photos:
            up = client.upload(rid, photo.name, photo.read_bytes())
            assert up.code == 0, up
            assert up.file_id, up
            info = client.fileinfo(file_details_xml(rid, up.file_id, classification="A1"))
            assert info.code == 0, info
        done = client.finish(rid)
        assert done.code == 0, done
        assert len(done.files) == 2, done
    finally:
        client.close()

    # 2. A files it and matches both files against its bank: it waits in the queue.
    state = wait_for(
        "both files matched at A",
        lambda: (s := shell(a, A_STATE.format(rid=rid)))["matched"] == 2 and s,
    )
    assert (state["state"], state["files"], state["banks"]) == ("new", 2, ["known"])
    report_id = state["report"]

    # 3. An analyst of A forwards it to B, in the browser.
    w = watch(browser, a.url)
    w.context.set_default_timeout(30_000)
    page = w.page
    try:
        sign_in_and_enrol(page, a.url, "ana")
        expect(page).to_have_url(a.url + "/console/queue/")
        row = page.locator("table.queue tbody tr", has_text=report_id[:8])
        expect(row).to_have_count(1)
        row.get_by_role("button", name=re.compile(r"^Claim ")).click()
        expect(page).to_have_url(a.url + "/console/queue/")
        expect(row).to_contain_text("ana")
        row.locator(".case-link").click()
        expect(page).to_have_url(f"{a.url}/console/reports/{report_id}/")
        page.wait_for_load_state("load")
        page.get_by_label("Forward to the hotline of the hosting country").select_option(
            "hotline-b"
        )
        page.get_by_role("button", name="Forward", exact=True).click()
        expect(page).to_have_url(f"{a.url}/console/reports/{report_id}/#forwarding")
        page.wait_for_load_state("load")
        expect(page.locator("#forwarding table")).to_contain_text("hotline-b")

        # 4. B files it (never with the reporter's details), closes it, and tells A.
        sent = wait_for(
            "the forwarding to be delivered to B",
            lambda: (
                (f := shell(a, A_STATE.format(rid=rid))["forwarded"]) and f["state"] == "sent" and f
            ),
        )
        there = shell(b, B_RECEIVED.format(ref=sent["ref"]))
        assert (there["from"], there["channel"], there["contact"]) == (
            "hotline-a",
            "hotline",
            False,
        )
        assert shell(b, B_CLOSE.format(report=there["report"])) == ["closed", "outside_remit"]
        wait_for(
            "B's outcome to reach A",
            lambda: (
                shell(a, A_STATE.format(rid=rid))["forwarded"]["outcome"]
                == ["closed", "outside_remit"]
            ),
        )
        # ... and A's case page shows it.
        page.reload()
        page.wait_for_load_state("load")
        expect(page.locator("#forwarding table")).to_contain_text(sent["ref"])
        expect(page.locator("#forwarding table")).to_contain_text("closed: outside_remit")
        assert w.foreign_requests == []
        assert w.problems == []
    finally:
        w.context.close()

    # 5. The platform's receiver got the status changes, each signature verified.
    statuses = wait_for(
        "the webhook deliveries",
        lambda: (s := receiver.statuses())[:2] == ["received", "in_review"] and s,
    )
    assert receiver.refused == 0
    assert all(d["report"]["reference"] == f"ispws:{rid}" for d in receiver.verified)
    assert statuses == ["received", "in_review"]

    # 6. B pulls A's bank's changes and matches the same file.
    pulled = tipline(
        b, "hashpull", "--url", a.url, "--bank", "known", "--into", "from-a",
        "--token-file", str(world.hashes_token),
    )  # fmt: skip
    assert "added 2" in pulled, pulled
    matched = json.loads(tipline(b, "match", str(photos[0])).splitlines()[0])
    assert [(m["bank"], m["kind"]) for m in matched["matches"]] == [("from-a", "pdq")]
