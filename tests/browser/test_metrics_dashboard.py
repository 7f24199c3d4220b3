"""Done-when walkthrough of the metrics issue, in a real browser against a real server.

A scripted week of reports, views, claims, decisions and a four-eyes referral is played into the
server's own database (tests/metrics/scenario.py, in a process with the server's settings), which
also counts the figures again straight from the report rows and the audit log. A supervisor
signs in, opens the dashboard for that week and finds the same numbers in the headline, the
charts and the tables; downloads a table as CSV; and produces the transparency report, whose PDF
pages are rendered to images for a person to look at.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Watched, watch
from tests.browser.test_console_casework import sign_in_and_enrol
from tests.browser.test_console_sign_in import check_console, shoot
from tests.factories import STAFF_PASSWORD
from tests.live import TIPLINE, LiveServer

SHOTS = Path("/tmp/metrics18-shots")
ROOT = Path(__file__).resolve().parents[2]

_PLAY_WEEK = """
import django, json
django.setup()
from django.utils import timezone
from tests.metrics import scenario
week = scenario.build(refresh_between=True)
raw = scenario.independent_counts(week, now=timezone.now())
print(json.dumps({"first": week.first_day.isoformat(), "last": week.last_day.isoformat(),
                  **{k: v for k, v in raw.items() if k != "now"}}))
"""


def _code(label: str) -> str:
    """ "Canada (CA)" -> "CA": the dashboard names a code and keeps it in brackets."""
    found = re.search(r"\(([^()]*)\)$", label)
    assert found, label
    return found.group(1)


@pytest.fixture
def console(browser: Browser, fresh_server: LiveServer) -> Iterator[tuple[Watched, LiveServer]]:
    watched = watch(browser, fresh_server.url)
    yield watched, fresh_server
    watched.context.close()


def _play_week(server: LiveServer) -> dict[str, object]:
    env = server.env() | {"PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"}
    done = subprocess.run(
        [sys.executable, "-c", _PLAY_WEEK], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # Rebuild, not refresh: the scenario back-dates reports after creating them, which the
    # server's own periodic refresh may have counted in between (no real event does that).
    refreshed = subprocess.run(
        [*TIPLINE, "metrics", "rebuild"], env=server.env(), capture_output=True, text=True
    )
    assert refreshed.returncode == 0, refreshed.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.browser
def test_supervisor_dashboard_after_a_scripted_week(
    console: tuple[Watched, LiveServer],
) -> None:
    w, server = console
    raw = _play_week(server)
    created = subprocess.run(
        [*TIPLINE, "staff", "create", "--username", "sam", "--role", "supervisor"],
        input=STAFF_PASSWORD + "\n",
        env=server.env(),
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    page = w.page
    sign_in_and_enrol(page, w.base_url, "sam")
    page.get_by_role("link", name="Metrics").click()
    page.get_by_label("From", exact=True).fill(str(raw["first"]))
    page.get_by_label("To", exact=True).fill(str(raw["last"]))
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#fig-received")).to_have_text(str(raw["received"]))
    expect(page.locator("#fig-open")).to_have_text(str(raw["open"]))

    # The day chart draws the raw counts; the table beside it says the same.
    drawn = page.locator("#sec-by_day svg rect[data-value]")
    values = [int(drawn.nth(k).get_attribute("data-value") or "-1") for k in range(drawn.count())]
    by_day = dict(raw["by_day"])  # type: ignore[call-overload]
    table = page.locator("#sec-by_day table tbody tr")
    days = [table.nth(k).locator("th").inner_text() for k in range(table.count())]
    assert values == [by_day.get(d, 0) for d in days]
    assert [int(table.nth(k).locator("td").inner_text()) for k in range(len(days))] == values

    # Categories, countries and outcomes: table rows equal the raw counts.
    for section, key in (
        ("by_category", "by_category"),
        ("by_country", "by_country"),
        ("outcomes", "outcomes"),
    ):
        rows = page.locator(f"#sec-{section} table tbody tr")
        shown = {
            _code(rows.nth(k).locator("th").inner_text()): int(
                rows.nth(k).locator("td").inner_text()
            )
            for k in range(rows.count())
        }
        assert shown == raw[key], section
    # Every chart has a name and a description for assistive technology.
    for svg in page.locator("svg.chart").all():
        assert svg.get_attribute("role") == "img"
        assert svg.locator(":scope > title").count() == 1
        assert svg.locator(":scope > desc").count() == 1

    SHOTS.mkdir(exist_ok=True)
    shoot(page, SHOTS, "metrics")

    with page.expect_download() as download:
        page.locator("#sec-by_category a[download]").click()
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0] == "section,key,measure,value"

    # The transparency report: HTML in the browser, then the PDF, rendered to page images.
    last = str(raw["last"])
    period = f"{last[:4]}-Q{(int(last[5:7]) - 1) // 3 + 1}"
    page.goto(w.base_url + f"/console/metrics/transparency/?period={period}&language=en")
    expect(page.locator("h1")).to_contain_text("transparency report")
    assert not re.search(r'<td class="num">[0-9]</td>', page.content())
    page.screenshot(path=SHOTS / "transparency-html.png", full_page=True)
    for language in ("en", "hi"):
        got = page.request.get(
            w.base_url
            + f"/console/metrics/transparency/?period={period}&language={language}&format=pdf"
        )
        assert got.ok
        assert got.body().startswith(b"%PDF")
        pdf = SHOTS / f"transparency-{language}.pdf"
        pdf.write_bytes(got.body())
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(pdf), str(SHOTS / f"transparency-{language}")],
            check=True,
        )
    check_console(w)
