"""Done-when of notice and takedown, in a real browser against a real server and worker.

An analyst decides "notice" on a csam URL report and a second analyst confirms it. The server's
task worker looks the host up (a DNS server and an RDAP server on loopback) and sends the notice
to aiosmtpd; its XARF part passes ``xarf.parse(strict=True)``. The local web server then answers
404 for the URL, the re-check (run directly, as ``tipline takedown recheck``) marks it removed,
and the case view shows the takedown time.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import xarf
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Watched, watch
from tests.browser.test_console_casework import create_analyst, sign_in_and_enrol
from tests.browser.test_console_sign_in import check_console, shoot
from tests.live import TIPLINE, LiveServer
from tests.takedown.servers import (
    Answer,
    DnsServer,
    HttpServer,
    SmtpServer,
    rdap_ip,
    readable_body,
    xarf_parts,
)

CSAM = "Child sexual abuse material online"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[LiveServer, DnsServer, HttpServer, SmtpServer]]:
    dns_server, rdap_server, web, smtp = DnsServer(), HttpServer(), HttpServer(), SmtpServer()
    for server in (dns_server, rdap_server, web, smtp):
        server.start()
    dns_server.records["pics.example"] = "127.0.0.1"
    rdap_server.routes["/rdap/ip/127.0.0.1"] = Answer(
        body=rdap_ip("abuse@pics-host.example", country="DE", org="Pics Host GmbH")
    )
    live = LiveServer(
        root=tmp_path / "server",
        extra_env={
            "TIPLINE_TAKEDOWN_RESOLVER": dns_server.address,
            "TIPLINE_TAKEDOWN_RDAP_URL": rdap_server.url("/rdap/"),
            "TIPLINE_NOTICE_SMTP_HOST": "127.0.0.1",
            "TIPLINE_NOTICE_SMTP_PORT": str(smtp.port),
            "TIPLINE_TAKEDOWN_FROM": "notices@hotline.test",
            "TIPLINE_TAKEDOWN_ALLOW_LOOPBACK": "1",  # the test web server is on 127.0.0.1
        },
    )
    live.setup()
    live.start()
    yield live, dns_server, web, smtp
    live.stop()
    for server in (dns_server, rdap_server, web, smtp):
        server.stop()


def _analyst(browser: Browser, server: LiveServer, name: str) -> Watched:
    create_analyst(server, name)
    watched = watch(browser, server.url)
    sign_in_and_enrol(watched.page, server.url, name)
    return watched


@pytest.mark.browser
def test_notice_sent_checked_and_removed(
    browser: Browser,
    world: tuple[LiveServer, DnsServer, HttpServer, SmtpServer],
    screenshot_dir: Path,
) -> None:
    server, _dns, web, smtp = world
    web.routes["/folder/123"] = Answer(200)
    url = web.url("/folder/123", host="pics.example")

    reporter = watch(browser, server.url)
    public = reporter.page
    public.goto(server.url + "/en/report/csam/")
    public.locator("textarea[name=what_happened]").fill("A forum thread links to a folder.")
    # A second address whose name does not resolve: an "unknown host" an analyst fills in.
    public.locator("textarea[name=urls]").fill(url + "\nhttp://nowhere.example/folder/9")
    public.locator("form button[type=submit]").last.click()
    expect(public.locator("#receipt")).not_to_be_empty()
    reporter.check()
    reporter.context.close()

    ana = _analyst(browser, server, "ana")
    page = ana.page
    # Signing in lands on the queue (issue 15).
    expect(page).to_have_url(re.compile(r"/console/queue/$"))
    row = page.locator("table.queue tbody tr").first
    row.get_by_role("button", name=f"Claim {CSAM}").click()
    row.locator(".case-link").click()
    page.get_by_label("Legal assessment").select_option("baseline")
    page.get_by_label("Severity (IWF category)").select_option("C")  # a notice needs it (issue 15)
    page.get_by_label("Industry category").select_option("A1")
    page.get_by_label("Content type").select_option("image")
    page.get_by_role("button", name="Save classification").click()
    page.get_by_label("Outcome").select_option("notice_sent")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#case-state")).to_have_text("Awaiting second review")
    case_url = page.url.split("#")[0]

    ben = _analyst(browser, server, "ben")
    second = ben.page
    second.goto(case_url)
    second.get_by_role("button", name="Confirm decision").click()
    expect(second.locator("#case-state")).to_have_text("Actioned")
    expect(second.locator("#notices")).to_be_visible()

    # The worker looks the host up and sends the notice.
    deadline = time.monotonic() + 60
    while not smtp.inbox.messages:
        assert time.monotonic() < deadline, "no notice arrived"
        time.sleep(0.5)
    [message] = smtp.inbox.messages
    assert smtp.inbox.envelopes[0][1] == ["abuse@pics-host.example"]
    [part] = xarf_parts(message)
    parsed = xarf.parse(part, strict=True)
    assert parsed.errors == []
    assert parsed.report is not None
    data = json.loads(part)
    assert (data["type"], data["classification"], data["url"]) == ("csam", "A1", url)
    assert url in readable_body(message)
    assert "forum thread" not in message.as_string()

    second.reload()
    notices = second.locator("#notices")
    expect(notices).to_contain_text("Pics Host GmbH")
    expect(notices.locator(".notice-state")).to_have_text("Sent")
    expect(notices).to_contain_text(message["Message-ID"].strip("<>"))
    unknown = notices.locator(".unknown-host")
    expect(unknown).to_contain_text("Unknown host: nowhere.example")
    expect(unknown).to_contain_text("NXDOMAIN")
    shoot(second, screenshot_dir, "takedown-sent")

    # The host takes the page down; one re-check pass, as the worker would run it.
    web.routes["/folder/123"] = Answer(404)
    done = subprocess.run(
        [*TIPLINE, "takedown", "recheck"],
        env=server.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "removed: 1" in done.stdout
    second.reload()
    expect(notices.locator(".url-state")).to_have_text("Removed")
    expect(notices.locator(".notice-state")).to_have_text("Removed")
    expect(notices.locator(".takedown-time")).to_have_text(re.compile(r"^\d+:\d\d:\d\d$"))
    shoot(second, screenshot_dir, "takedown-removed")
    check_console(ana)
    check_console(ben)
    ana.context.close()
    ben.context.close()
