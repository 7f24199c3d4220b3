"""Issue 15 in the console: the inbox and its count in the navigation, queue tabs and time left,
one date-time format in the person's time zone, and the audit log in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.template import Context, Template
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.console.helpers import signed_in
from tipline.audit.chain import record
from tipline.audit.models import AuditEntry
from tipline.cases import actions
from tipline.cases.models import InboxSeen, Report
from tipline.cases.states import MessageAuthor, Outcome, ReportState
from tipline.console.audit_words import describe, grouped
from tipline.staff import time_zones
from tipline.staff.models import StaffUser

pytestmark = pytest.mark.django_db

URGENT = "New account again. He says he will kill me tonight, he knows where I live."


def scored(text: str = "He sends messages every night.") -> Report:
    report = factories.report("cyberstalking", text=text).report
    factories.run_tasks(report)
    report.refresh_from_db()
    return report


def actioned(report: Report) -> None:
    Report.objects.filter(pk=report.pk).update(
        state=ReportState.ACTIONED, outcome=Outcome.NOTICE_SENT, closed_at=timezone.now()
    )


def follow_up(report: Report, text: str) -> None:
    actions.message_add(report=report, author=MessageAuthor.REPORTER, body=text)
    factories.run_tasks(report)


def nav_count(html: str) -> str | None:
    found = re.search(r'class="nav-inbox"[^>]*>Inbox <span class="count">(\d+)</span>', html)
    return found.group(1) if found else None


# --- inbox ---------------------------------------------------------------------------------------


def test_a_follow_up_on_an_actioned_report_reaches_inbox_nav_and_queue() -> None:
    client, _ana = signed_in("ana")
    report = scored()
    actioned(report)
    assert nav_count(client.get("/console/queue/").content.decode()) is None
    follow_up(report, URGENT)
    queue = client.get("/console/queue/").content.decode()
    assert nav_count(queue) == "1"
    assert "raised from P" in queue
    assert " to P1, " in queue
    page = client.get("/console/inbox/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    html = page.content.decode()
    assert f"/console/reports/{report.id}/#thread" in html
    assert "Nobody has read it yet" in html
    assert "kill" not in html  # the inbox names the message, never its words
    # Opening the case reads the thread: the count goes, for this person only.
    case = client.get(f"/console/reports/{report.id}/").content.decode()
    assert 'id="tier-raised"' in case
    assert "re-opened it" in case
    assert nav_count(client.get("/console/queue/").content.decode()) is None
    other, _ben = signed_in("ben")
    assert nav_count(other.get("/console/queue/").content.decode()) == "1"


def test_mark_as_read_from_the_inbox() -> None:
    client, ana = signed_in("ana")
    report = scored()
    follow_up(report, "One more thing.")
    response = client.post(f"/console/reports/{report.id}/inbox-read/", {"show": "team"})
    assert response.status_code == 302
    assert response["Location"] == "/console/inbox/?show=team"
    assert InboxSeen.objects.filter(staff=ana, report=report).exists()
    html = client.get("/console/inbox/").content.decode()
    assert "Nothing unread" in html
    # A hostile "show" is ignored, not echoed into the redirect.
    response = client.post(f"/console/reports/{report.id}/inbox-read/", {"show": "//evil"})
    assert response["Location"] == "/console/inbox/"


@pytest.mark.parametrize(
    "query",
    [
        {"show": "everything"},
        {"before": "-1"},
        {"before": "x" * 500},
        {"before": str(10**18)},
        {"show": "x\ufffd"},
        {"before": "1e9"},
    ],
)
def test_inbox_refuses_hostile_parameters(query: dict[str, str]) -> None:
    client, _ana = signed_in("ana")
    assert client.get("/console/inbox/", query).status_code == 404


def test_inbox_pages_through_a_cursor() -> None:
    client, _ana = signed_in("ana")
    report = scored()
    for i in range(3):
        actions.message_add(report=report, author=MessageAuthor.REPORTER, body=f"m{i}")
    html = client.get("/console/inbox/", {"show": "all"}).content.decode()
    assert html.count('class="unread"') == 3
    assert client.get("/console/inbox/", {"show": "all", "before": "0"}).status_code == 200


# --- queue tabs, landing, auditors ---------------------------------------------------------------


def test_queue_tabs_and_time_left() -> None:
    client, ana = signed_in("ana")
    report = scored()
    actions.report_claim(actor=ana, report=report)
    html = client.get("/console/queue/").content.decode()
    for label in ("Open", "Mine", "Awaiting my second review", "Overdue", "New information"):
        assert f">{label}</a>" in html, label
    assert re.search(r"\d+ (d|h|min)[^<]* left</strong>", html)
    mine = client.get("/console/queue/", {"view": "mine"}).content.decode()
    assert 'href="/console/queue/?view=mine" aria-current="page"' in mine
    assert str(report.id) in mine
    assert client.get("/console/queue/", {"view": "bogus"}).status_code == 400
    overdue = client.get("/console/queue/", {"view": "overdue"}).content.decode()
    assert str(report.id) not in overdue


def test_an_auditor_lands_on_the_audit_log_and_sees_no_queue() -> None:
    client, _aud = signed_in("aud", "auditor")
    html = client.get("/console/audit/").content.decode()
    assert 'href="/console/queue/"' not in html
    assert 'href="/console/inbox/"' not in html
    assert client.get("/console/queue/").status_code == 404
    # Already signed in: the sign-in page sends them to their landing page too.
    assert client.get("/console/sign-in/")["Location"] == "/console/audit/"


def test_date_filters_are_iso_text_fields() -> None:
    client, _ana = signed_in("ana")
    html = client.get("/console/queue/").content.decode()
    assert 'type="date"' not in html
    assert 'placeholder="YYYY-MM-DD"' in html
    assert client.get("/console/queue/", {"created_from": "2026-03-31"}).status_code == 200
    for bad in ("03/31/2026", "31/03/2026", "2026-3-31x", "2026-03-3\ufffd", "9" * 400):
        response = client.get("/console/queue/", {"created_from": bad})
        assert response.status_code == 400, bad
        assert "Enter a date like 2026-03-31." in response.content.decode()
    # A lone surrogate written as UTF-8 in the query string is not a date either.
    assert client.get("/console/queue/?created_from=2026-03-%ED%A0%80").status_code == 400


def test_date_filters_read_the_day_in_the_persons_time_zone() -> None:
    client, ana = signed_in("ana")
    StaffUser.objects.filter(pk=ana.pk).update(time_zone="Asia/Kolkata")
    report = scored()
    # 2026-03-30 20:00 UTC is already 31 March in India (UTC+05:30).
    Report.objects.filter(pk=report.pk).update(created_at=datetime(2026, 3, 30, 20, tzinfo=UTC))
    day = {"state": "any", "created_from": "2026-03-31", "created_to": "2026-03-31"}
    assert str(report.id) in client.get("/console/queue/", day).content.decode()


# --- time zones ----------------------------------------------------------------------------------


def render_when(value: object, zone: str, part: str = "") -> str:
    arg = f':"{part}"' if part else ""
    with timezone.override(zone):
        return Template("{% load console_display %}{{ v|when" + arg + " }}").render(
            Context({"v": value})
        )


def test_when_is_one_format_with_the_zone_named() -> None:
    moment = datetime(2026, 7, 1, 12, 5, 9, tzinfo=UTC)
    paris = render_when(moment, "Europe/Paris")
    assert ">2026-07-01 14:05 CEST</time>" in paris
    assert 'datetime="2026-07-01T12:05:09+00:00"' in paris
    assert 'title="Europe/Paris (UTC+02:00)"' in paris
    assert ">2026-07-01 17:35 IST</time>" in render_when(moment, "Asia/Kolkata")
    assert ">2026-07-01</time>" in render_when(moment, "UTC", "date")
    assert render_when(None, "UTC") == ""


def test_a_staff_member_chooses_their_time_zone() -> None:
    client, ana = signed_in("ana")
    page = client.get("/console/").content.decode()
    assert "The hotline&#x27;s (UTC)" in page
    response = client.post("/console/account/time-zone/", {"time_zone": "America/Sao_Paulo"})
    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.time_zone == "America/Sao_Paulo"
    entry = AuditEntry.objects.filter(action="staff.set_time_zone").get()
    assert entry.details == {"from": "", "to": "America/Sao_Paulo"}
    assert "Saved. Dates and times are now shown in America/Sao_Paulo." in (
        client.get("/console/?saved=time_zone").content.decode()
    )
    # The console now writes times in São Paulo's zone (UTC-03).
    report = scored()
    Report.objects.filter(pk=report.pk).update(created_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    html = client.get(f"/console/reports/{report.id}/").content.decode()
    assert ">2026-07-01 09:00 -03</time>" in html
    # Back to the hotline's.
    client.post("/console/account/time-zone/", {"time_zone": ""})
    ana.refresh_from_db()
    assert ana.time_zone == ""


@pytest.mark.parametrize(
    "value", ["Mars/Olympus", "../../etc/passwd", "UTC\x00", "Europe/Paris" * 50, "\ufffd", "EST5"]
)
def test_unknown_time_zones_are_refused(value: str) -> None:
    client, ana = signed_in("ana")
    response = client.post("/console/account/time-zone/", {"time_zone": value})
    assert response.status_code == 400
    assert "Choose a time zone from the list." in response.content.decode()
    ana.refresh_from_db()
    assert ana.time_zone == ""
    with pytest.raises(time_zones.UnknownTimeZone):
        time_zones.staff_set_time_zone(actor=ana, time_zone=value)


# --- audit in words ------------------------------------------------------------------------------


def test_audit_page_shows_words_with_the_json_behind_a_disclosure() -> None:
    report = scored()
    client, _adm = signed_in("adm", "admin")
    analyst, _ana = signed_in("ana")
    analyst.get(f"/console/reports/{report.id}/")
    file_id = "3f2a1b0c-0000-4000-8000-000000000000"
    with transaction.atomic():
        record(
            actor="ana",
            action="file.reveal",
            target_type="file",
            target_id=file_id,
            details={"report": str(report.id)},
        )
    html = client.get("/console/audit/").content.decode()
    short = str(report.id)[:8]
    assert f"ana revealed file 3f2a1b0c of report {short}" in html
    assert f"ana opened report {short} (2 entries)" in html
    assert '<details class="audit-json">' in html
    assert "&quot;report&quot;" in html  # the JSON, escaped, inside the disclosure


def test_one_case_opening_is_one_group_and_two_openings_are_two() -> None:
    now = timezone.now()

    def entry(seq: int, action: str, actor: str = "ana", at: datetime = now) -> AuditEntry:
        target = ("report", "r1") if action.startswith("report.") else ("file", "f1")
        return AuditEntry(
            seq=seq,
            created_at=at,
            actor=actor,
            action=action,
            target_type=target[0],
            target_id=target[1],
            details={"report": "r1"} if target[0] == "file" else {},
        )

    newest_first = [
        entry(8, "file.preview"),
        entry(7, "report.decrypt"),
        entry(6, "report.view"),
        entry(5, "file.preview"),
        entry(4, "report.decrypt"),
        entry(3, "report.view"),
        entry(2, "report.decrypt", actor="ben"),
        entry(1, "report.claim"),
    ]
    groups = grouped(newest_first)
    assert [[e.seq for e in g.entries] for g in groups] == [[8, 7, 6], [5, 4, 3], [2], [1]]
    assert groups[0].words == "ana opened report r1 (3 entries)"
    assert groups[3].words == "ana claimed report r1"
    # Far apart in time: not one opening.
    apart = grouped(
        [entry(2, "report.decrypt"), entry(1, "report.view", at=now - timedelta(hours=1))]
    )
    assert len(apart) == 2


def test_words_for_system_reopening_and_unknown_actions() -> None:
    reopened = AuditEntry(
        actor="system",
        action="report.reopened",
        target_type="report",
        target_id="12345678-aaaa-bbbb-cccc-dddddddddddd",
        details={"reason": "tier_raised", "tier": ["P3", "P1"], "state": ["closed", "new"]},
    )
    assert describe(reopened) == (
        "New information from the reporter raised report 12345678 from P3 to P1 and re-opened it"
    )
    odd = AuditEntry(actor="x", action="future.thing", target_type="t", target_id="9", details=[])
    assert describe(odd) == "x: future.thing t 9"
    hostile = AuditEntry(actor="<b>me</b>", action="auth.sign_in", details={})
    assert describe(hostile) == "<b>me</b> signed in"  # escaped by the template, not here


def test_audit_words_are_escaped_on_the_page() -> None:
    with transaction.atomic():
        record(actor="<script>x</script>", action="auth.sign_in")
    client, _adm = signed_in("adm", "admin")
    html = client.get("/console/audit/").content.decode()
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt; signed in" in html


def test_a_reports_audit_trail_from_its_case_view() -> None:
    report = scored()
    other = scored()
    admin, _adm = signed_in("adm", "admin")
    case = admin.get(f"/console/reports/{report.id}/").content.decode()
    assert f'href="/console/reports/{report.id}/audit/"' in case
    trail = admin.get(f"/console/reports/{report.id}/audit/")
    assert trail.status_code == 200
    assert trail["Cache-Control"] == "no-store"
    html = trail.content.decode()
    assert f"adm opened report {str(report.id)[:8]}" in html
    assert str(other.id)[:8] not in html
    read = AuditEntry.objects.filter(action="audit.read").last()
    assert read is not None
    assert read.details == {"report": str(report.id)}
    # Analysts open the case but may not read the audit: no link, and the same 404 as a miss.
    analyst, _ana = signed_in("ana")
    assert "/audit/" not in analyst.get(f"/console/reports/{report.id}/").content.decode()
    assert analyst.get(f"/console/reports/{report.id}/audit/").status_code == 404
    auditor, _aud = signed_in("aud", "auditor")
    assert auditor.get(f"/console/reports/{report.id}/audit/").status_code == 404
    for query in ({"before": "-5"}, {"before": "abc"}):
        assert admin.get(f"/console/reports/{report.id}/audit/", query).status_code == 404


def test_a_lone_surrogate_in_the_time_zone_post_is_refused() -> None:
    client, ana = signed_in("ana")
    response = client.post(
        "/console/account/time-zone/",
        b"time_zone=Europe%2FParis%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    ana.refresh_from_db()
    assert ana.time_zone == ""


def test_anonymous_visitors_reach_none_of_it() -> None:
    client = Client()
    for path in ("/console/inbox/", "/console/account/time-zone/"):
        assert client.get(path)["Location"] == "/console/sign-in/"


def test_a_stored_zone_this_machine_no_longer_knows_falls_back_to_the_hotlines() -> None:
    client, ana = signed_in("ana")
    StaffUser.objects.filter(pk=ana.pk).update(time_zone="Atlantis/Lost_City")
    page = client.get("/console/queue/")
    assert page.status_code == 200
    ana.refresh_from_db()
    assert time_zones.zone_of(ana) == "UTC"
