"""The metrics pages in the console: scope by role, bad input, CSV, the transparency report."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone

from tests import factories
from tests.console.helpers import signed_in
from tests.metrics import scenario
from tipline.audit.models import AuditEntry
from tipline.metrics import rollup

pytestmark = pytest.mark.django_db


def _week_query(week: scenario.Week) -> str:
    return f"?from={week.first_day.isoformat()}&to={week.last_day.isoformat()}"


def test_supervisor_dashboard_charts_and_tables_agree_with_raw_rows() -> None:
    week = scenario.build(refresh_between=False)
    rollup.refresh_all()
    client, _sue = signed_in("sue2", "supervisor")
    page = client.get("/console/metrics/" + _week_query(week))
    assert page.status_code == 200
    html = page.content.decode()
    raw = scenario.independent_counts(week, now=timezone.now())
    assert re.search(r'id="fig-received">28<', html)
    # The day chart draws exactly the raw counts, in order.
    drawn = re.findall(r'data-value="(\d+)"><title>(\d{4}-\d\d-\d\d)', html)
    assert {day: int(v) for v, day in drawn} == {
        d: raw["by_day"].get(d, 0) for d in {day for _v, day in drawn}
    }
    assert len(drawn) == 7
    # Every SVG is labelled for assistive technology.
    assert html.count('role="img"') == html.count("<svg")
    # The category CSV equals the raw count.
    got = client.get("/console/metrics/csv/by_category/" + _week_query(week))
    assert got["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(got.content.decode())))
    assert {r["key"]: int(r["value"]) for r in rows} == dict(raw["by_category"])
    assert AuditEntry.objects.filter(action="metrics.export").count() == 1


def test_an_analyst_sees_only_their_queue_and_no_workload() -> None:
    week = scenario.build(refresh_between=False)
    rollup.refresh_all()
    client, ana = signed_in("ann", "analyst")
    report = week.reports[1]
    from tipline.cases import actions

    actions.report_claim(actor=ana, report=report)
    rollup.refresh_all()
    html = client.get("/console/metrics/" + _week_query(week)).content.decode()
    assert re.search(r'id="fig-received">1<', html)
    assert "sec-workload" not in html
    assert "console/metrics/transparency" not in html


@pytest.mark.parametrize(
    "query",
    [
        "?from=2026-13-01",
        "?from=2026-05-01&to=2026-04-01",
        "?from=2999-01-01&to=2999-01-02",
        "?colour=red",
        "?category=%3Cscript%3E",
        "?country=ZZ",
        "?from=" + "9" * 500,
        "?from=2026-01-01&from=2026-02-01",
        "?tier=%00",
        "?from=%ED%A0%80",
    ],
)
def test_bad_input_gets_a_sentence_not_a_crash(query: str) -> None:
    client, _u = signed_in("sue3", "supervisor")
    page = client.get("/console/metrics/" + query)
    assert page.status_code == 400
    assert b'role="alert"' in page.content
    assert b"<script>" not in page.content
    assert client.get("/console/metrics/csv/by_day/" + query).status_code == 400


def test_unknown_csv_section_is_not_found() -> None:
    client, _u = signed_in("sue4", "supervisor")
    assert client.get("/console/metrics/csv/secrets/").status_code == 404


def test_transparency_report_html_pdf_and_bad_periods(tmp_path: Path) -> None:
    week = scenario.build(refresh_between=False)
    rollup.refresh_all()
    client, _u = signed_in("sue5", "supervisor")
    today = timezone.now().date()
    period = f"{today.year}-{today.month:02d}"
    for language in ("en", "fr", "hi"):
        html = client.get(
            f"/console/metrics/transparency/?period={period}&language={language}"
        ).content.decode()
        assert f'lang="{language}"' in html
        assert "<10" in html or "&lt;10" in html
        # No count below 10 is ever printed in a table cell.
        for cell in re.findall(r'<td class="num">(\d+)</td>', html):
            assert int(cell) >= 10
    pdf = client.get(f"/console/metrics/transparency/?period={period}&language=hi&format=pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    (tmp_path / "t.pdf").write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "t.pdf"), "-"], capture_output=True, check=True, text=True
    ).stdout
    assert "<10" in text
    for bad in ("2026-Q5", "2999-Q1", "x" * 300, ""):
        assert client.get(f"/console/metrics/transparency/?period={bad}").status_code == 400
    assert (
        client.get(f"/console/metrics/transparency/?period={period}&language=de").status_code == 400
    )
    assert AuditEntry.objects.filter(action="metrics.transparency").count() == 4
    del week


def test_report_command_writes_html_and_pdf(tmp_path: Path) -> None:
    from django.core.management import call_command

    factories.report("cyberstalking")
    rollup.refresh_all()
    today = timezone.now().date()
    call_command(
        "report",
        "transparency",
        "--period",
        str(today.year),
        "--language",
        "en",
        "--out",
        str(tmp_path),
    )
    assert (tmp_path / f"transparency-{today.year}-en.pdf").read_bytes().startswith(b"%PDF")
    html = (tmp_path / f"transparency-{today.year}-en.html").read_text()
    assert "&lt;10" in html  # one report: hidden


def test_transparency_takedown_tables_by_country_and_provider_with_suppression() -> None:
    from datetime import timedelta

    from tipline.metrics import suppression, transparency
    from tipline.metrics.period import make
    from tipline.takedown.models import TrackedUrl

    now = timezone.now()
    report = factories.report("other").report
    # Twelve notices to a Dutch host, three to a German one; hours from notice to removal.
    plan = [("NL", "Big Host", h) for h in (2, 5, 10, 20, 30, 40, 60, 80, 100, 200, None, None)]
    plan += [("DE", "Small Host", h) for h in (1, None, None)]
    for n, (country, provider, hours) in enumerate(plan):
        sent = now - timedelta(days=10, hours=n)
        TrackedUrl.objects.create(
            report=report,
            url_digest=f"{n:064d}",
            host="h.example.test",
            provider=provider,
            hosting_country=country,
            created_at=sent,
            notice_sent_at=sent,
            removed_at=None if hours is None else sent + timedelta(hours=hours),
        )
    period = make(now.date() - timedelta(days=20), now.date())
    tables = {t.key: t for t in transparency.takedown_tables(period, 10)}
    by_provider = tables["takedown_provider"]
    assert by_provider.published.table.cells[0] == (4, 3, 2, 1, 2)  # Big Host, in buckets
    assert by_provider.published.table.cells[1] == (1, 0, 0, 0, 2)
    for table in tables.values():
        assert suppression.recovered(table.published) == []
        shown = [c for row in table.published.grid() for c in row]
        assert all(not c.isdigit() or int(c) >= 10 for c in shown)
    rows = {label: extra for label, _c, _b, extra in by_provider.rows()}
    assert rows["Small Host"] == ("not published", "not published")
    median, p90 = rows["Big Host"]
    # Kaplan-Meier with two still online at 10 days: the median is the 6th removal (40 h).
    assert float(median) == 40.0
    assert p90 == "not yet", "a sixth of them is still online: the 90th percentile is not reached"
    html = transparency.render_html(period, "en", t=10)
    assert 'id="table-takedown_country"' in html
    assert "Small Host" in html
    for cell in re.findall(r'<td class="num">(\d+)</td>', html):
        assert int(cell) >= 10
