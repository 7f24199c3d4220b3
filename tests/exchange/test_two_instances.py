"""Two Tipline installations on loopback (two data directories, two ports, two task workers)
forward a report to each other and send the outcome back, in both directions.

Everything crosses a real network hop through each server's front: the forwarding is delivered
by the sender's task worker, filed by the receiver's web process, decided there by a staff
member, and the outcome travels back through the receiver's periodic outcome task.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import TIPLINE, LiveServer

pytestmark = pytest.mark.server
PASSWORD = "quiet river lantern 2047"


def tipline(server: LiveServer, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [*TIPLINE, *args], env=server.env(), input=stdin.encode(), capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return done.stdout.decode()


def shell(server: LiveServer, code: str) -> Any:
    """Run ``code`` inside that installation; it prints one JSON value as its last line."""
    out = tipline(server, "shell", "-c", code)
    return json.loads(out.strip().splitlines()[-1])


SETUP_STAFF = f"""
from tipline.staff import actions
for name, role in (("sup", "supervisor"), ("ana", "analyst")):
    actions.staff_create(actor=None, username=name, role=role, password={PASSWORD!r})
print("null")
"""

FORWARD = """
import json
from tipline.cases.models import Report
from tipline.exchange import actions, selectors
from tipline.staff.models import StaffUser
report = Report.objects.get(pk={report!r})
user = StaffUser.objects.get(username="sup")
f = actions.forward_create(actor=user, report=report, hotline=selectors.hotline_choice({to!r}))
print(json.dumps(str(f.id)))
"""

FORWARDING = """
import json
from tipline.exchange.models import Forwarding
f = Forwarding.objects.get(pk={id!r})
print(json.dumps({{"state": f.state, "ref": f.their_reference, "outcome_state": f.outcome_state,
                  "outcome": f.outcome, "error": f.last_error}}))
"""

RECEIVED = """
import json
from tipline.exchange.models import InboundForward
i = InboundForward.objects.select_related("report", "hotline").get(pk={ref!r})
r = i.report
print(json.dumps({{"report": str(r.id), "channel": r.channel, "from": i.hotline.name,
                  "category": r.category, "contact": r.contact is not None}}))
"""

CLOSE = """
import json
from tipline.cases import actions, transitions
from tipline.cases.models import Report
from tipline.cases.states import Outcome, ReportState
from tipline.staff.models import StaffUser
sup, ana = StaffUser.objects.get(username="sup"), StaffUser.objects.get(username="ana")
report = actions.report_claim(actor=sup, report=Report.objects.get(pk={report!r}))
transitions.report_decide(actor=sup, report=report, outcome=Outcome.OUTSIDE_REMIT)
report.refresh_from_db()
if report.state == ReportState.AWAITING_SECOND_REVIEW:
    transitions.report_confirm(actor=ana, report=report)
    report.refresh_from_db()
print(json.dumps([report.state, report.outcome]))
"""


def wait_for(probe: Any, *, seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(1)


def _server(root: Path, name: str) -> LiveServer:
    server = LiveServer(
        root=root,
        extra_env={
            "TIPLINE_HOTLINE_NAME": name,
            "TIPLINE_EXCHANGE_ALLOW_HTTP": "1",
            "TIPLINE_EXCHANGE_OUTCOME_SECONDS": "1",
        },
    )
    server.setup()
    return server


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    a = _server(tmp_path_factory.mktemp("hotline-a"), "Hotline A")
    b = _server(tmp_path_factory.mktemp("hotline-b"), "Hotline B")
    keys = {s.port: tipline(s, "hotlines", "pubkey").strip() for s in (a, b)}
    issued = {}
    for here, there, name in ((a, b, "hotline-b"), (b, a, "hotline-a")):
        out = tipline(
            here, "hotlines", "add", name, "--url", there.url, "--public-key", keys[there.port]
        )
        issued[(here.port, name)] = out.rsplit("(shown once): ", 1)[1].strip()
    # Each side stores the token the other issued it, from standard input.
    tipline(a, "hotlines", "set-token", "hotline-b", stdin=issued[(b.port, "hotline-a")] + "\n")
    tipline(b, "hotlines", "set-token", "hotline-a", stdin=issued[(a.port, "hotline-b")] + "\n")
    for server in (a, b):
        shell(server, SETUP_STAFF)
        server.start(workers=1)
    yield a, b
    for server in (a, b):
        server.stop()


def _report(server: LiveServer, url: str) -> str:
    answer = httpx.post(
        server.url + "/api/v1/reports",
        json={
            "category": "csam",
            "what_happened": "A gallery of abuse images at this address.",
            "urls": [url],
            "contact_name": "Sam Reporter",
            "contact_email": "sam@example.org",
            "contact_choice": "contact",
        },
        timeout=30,
    )
    assert answer.status_code in (200, 201), answer.text
    found = shell(
        server,
        "import json\nfrom tipline.cases.models import Report\n"
        "print(json.dumps(str(Report.objects.order_by('-created_at').first().id)))",
    )
    assert isinstance(found, str)
    return found


@pytest.mark.parametrize("direction", ["a-to-b", "b-to-a"])
def test_a_forwarded_report_is_filed_there_and_its_outcome_comes_back(
    pair: tuple[LiveServer, LiveServer], direction: str
) -> None:
    sender, receiver = pair if direction == "a-to-b" else pair[::-1]
    to = "hotline-b" if direction == "a-to-b" else "hotline-a"
    came_from = "hotline-a" if direction == "a-to-b" else "hotline-b"
    report = _report(sender, f"https://files.example/{direction}/album")
    forwarding = shell(sender, FORWARD.format(report=report, to=to))

    sent = wait_for(
        lambda: (f := shell(sender, FORWARDING.format(id=forwarding)))["state"] == "sent" and f
    )
    received = shell(receiver, RECEIVED.format(ref=sent["ref"]))
    assert received["from"] == came_from
    assert received["channel"] == "hotline"
    assert received["category"] == "csam"
    assert received["contact"] is False  # the reporter's contact details never travel

    assert shell(receiver, CLOSE.format(report=received["report"])) == ["closed", "outside_remit"]
    back = wait_for(
        # The partner may first report "new" (its outcome task can run before the close).
        lambda: (
            (f := shell(sender, FORWARDING.format(id=forwarding)))["outcome_state"] == "closed"
            and f
        )
    )
    assert (back["outcome_state"], back["outcome"]) == ("closed", "outside_remit")
