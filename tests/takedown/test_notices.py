"""Notice and takedown through the console, with real DNS, RDAP, SMTP and web servers.

Two analysts decide and confirm "notice" on a csam report; the hosts are looked up; one notice per
provider arrives at aiosmtpd with a XARF part that ``xarf`` strict-parses; the web server then
answers 404 and the re-check marks the URL removed with its takedown time.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import xarf
from django.conf import LazySettings as SettingsWrapper
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.console.helpers import signed_in
from tests.takedown.servers import (
    Answer,
    DnsServer,
    HttpServer,
    SmtpServer,
    rdap_ip,
    readable_body,
    xarf_parts,
)
from tipline.audit.chain import verify
from tipline.cases.models import Report
from tipline.takedown import actions, steps, tasks
from tipline.takedown.models import HostRecord, Notice, NoticeState, TrackedUrl, UrlState
from tipline.takedown.sealing import url_digest

pytestmark = pytest.mark.django_db

WHAT = "A forum thread links to a folder of pictures of a young child."


def _url(report: Report, action: str = "") -> str:
    return f"/console/reports/{report.id}/{action}"


def _decide_notice(report: Report, *, category_values: dict[str, str]) -> tuple[Client, Client]:
    ana, _ = signed_in("ana")
    ben, _ = signed_in("ben")
    assert ana.post(_url(report, "claim/")).status_code == 302
    # A notice asserts illegality: abuse imagery needs its severity first (issue 15).
    values = {"severity": "C", **category_values} if report.category == "csam" else category_values
    assert ana.post(_url(report, "classify/"), values).status_code == 302
    assert ana.post(_url(report, "decide/"), {"outcome": "notice_sent"}).status_code == 302
    assert not TrackedUrl.objects.filter(report=report).exists()  # waits for four eyes
    assert ben.post(_url(report, "confirm/")).status_code == 302
    return ana, ben


@pytest.fixture
def hosted(
    takedown_settings: SettingsWrapper,
    dns_server: DnsServer,
    rdap_server: HttpServer,
    web_server: HttpServer,
) -> dict[str, str]:
    dns_server.records["pics.example"] = "127.0.0.1"
    rdap_server.routes["/rdap/ip/127.0.0.1"] = Answer(
        body=rdap_ip("abuse@pics-host.example", country="DE", org="Pics Host GmbH")
    )
    web_server.routes["/folder/1"] = Answer(200)
    web_server.routes["/folder/2"] = Answer(200)
    return {
        "one": web_server.url("/folder/1", host="pics.example"),
        "two": web_server.url("/folder/2", host="pics.example"),
        "unknown": "http://nowhere.example/x",
    }


def test_decide_confirm_send_recheck_removed(
    hosted: dict[str, str], smtp_server: SmtpServer, web_server: HttpServer
) -> None:
    report = factories.report(
        "csam", text=WHAT, details={"urls": [hosted["one"], hosted["two"], hosted["unknown"]]}
    ).report
    ana, ben = _decide_notice(
        report,
        category_values={
            "legal_assessment": "baseline",
            "industry_category": "A2",
            "content_type": "image",
        },
    )
    assert TrackedUrl.objects.filter(report=report).count() == 3
    assert tasks.prepare_notices.call(str(report.id)) == 1
    notice = Notice.objects.get(report=report)
    assert (notice.state, notice.provider, notice.abuse_email, notice.hosting_country) == (
        NoticeState.CONFIRMED,
        "Pics Host GmbH",
        "abuse@pics-host.example",
        "DE",
    )
    assert HostRecord.objects.get(host="nowhere.example").problem.startswith("the name")

    assert tasks.send_notice.call(str(notice.id)) == "sent"
    [message] = smtp_server.inbox.messages
    assert smtp_server.inbox.envelopes[0][1] == ["abuse@pics-host.example"]
    notice.refresh_from_db()
    assert notice.state == NoticeState.SENT
    assert message["Message-ID"] == notice.message_id
    parts = xarf_parts(message)
    assert len(parts) == 2
    urls = set()
    for part in parts:
        parsed = xarf.parse(part, strict=True)
        assert parsed.errors == []
        assert parsed.report is not None
        data = json.loads(part)
        assert (data["category"], data["type"], data["classification"]) == ("content", "csam", "A2")
        assert data["evidence"] == []
        urls.add(data["url"])
    assert urls == {hosted["one"], hosted["two"]}
    text = readable_body(message)
    assert hosted["one"] in text
    assert hosted["two"] in text
    assert hosted["unknown"] not in text
    # Never the reporter's words, never material.
    assert "folder of pictures" not in message.as_string()

    page = ana.get(_url(report)).content.decode()
    assert 'id="notices"' in page
    assert "Pics Host GmbH" in page
    assert "Unknown host: nowhere.example" in page
    assert notice.message_id in page.replace("&lt;", "<").replace("&gt;", ">")

    # The host removes one page; the re-check (run directly) sees it.
    web_server.routes["/folder/1"] = Answer(404)
    counts = tasks.recheck_due()
    assert (counts["removed"], counts["serving"]) == (1, 1)
    gone = TrackedUrl.objects.get(report=report, url_digest=url_digest(hosted["one"]))
    assert gone.state == UrlState.REMOVED
    assert gone.removed_at is not None
    assert gone.notice_sent_at is not None
    assert gone.removed_at >= gone.notice_sent_at
    assert gone.checks.count() == 1
    assert TrackedUrl.objects.get(url_digest=url_digest(hosted["two"])).state == UrlState.ONLINE
    page = ben.get(_url(report)).content.decode()
    assert "Removed" in page
    assert "HTTP 404" in page
    # Only HEAD requests reached the web server, never a body.
    assert {m for m, _p, _h in web_server.requests} == {"HEAD"}

    # Both gone: the notice is "removed".
    web_server.routes["/folder/2"] = Answer(410)
    tasks.recheck_due(now=timezone.now() + timedelta(hours=2))
    notice.refresh_from_db()
    assert notice.state == NoticeState.REMOVED

    # It comes back: tracking re-opens and the case view says so.
    web_server.routes["/folder/1"] = Answer(200)
    tasks.recheck_due(now=timezone.now() + timedelta(hours=4))
    back = TrackedUrl.objects.get(url_digest=url_digest(hosted["one"]))
    assert (back.state, back.reopened_reason, back.removed_at) == (
        UrlState.ONLINE,
        "served_again",
        None,
    )
    notice.refresh_from_db()
    assert notice.state == NoticeState.SENT
    assert "Back online after removal" in ana.get(_url(report)).content.decode()
    verify()


def test_smtp_refusing_or_down_keeps_the_notice_queued_and_visible(
    hosted: dict[str, str], smtp_server: SmtpServer, takedown_settings: SettingsWrapper
) -> None:
    report = factories.report("luring", details={"urls": [hosted["one"]]}).report
    ana, _ben = _decide_notice(
        report, category_values={"legal_assessment": "baseline", "victim_age_group": "pubescent"}
    )
    tasks.prepare_notices.call(str(report.id))
    notice = Notice.objects.get(report=report)
    smtp_server.inbox.refuse = True
    assert tasks.send_notice.call(str(notice.id)) == "queued"
    notice.refresh_from_db()
    assert notice.state == NoticeState.CONFIRMED
    assert (notice.sent_at, notice.message_id, notice.attempts) == (None, "", 1)
    assert notice.next_attempt_at is not None
    assert "SMTP" in notice.last_error
    page = ana.get(_url(report)).content.decode()
    assert "Not sent yet" in page
    assert "attempt 1 failed" in page
    assert not TrackedUrl.objects.filter(notice_sent_at__isnull=False).exists()
    # Server gone entirely: still queued, backoff grows.
    port = takedown_settings.MAILERS["notices"]["OPTIONS"]["port"]
    takedown_settings.MAILERS = {
        **takedown_settings.MAILERS,
        "notices": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        },
    }
    assert tasks.send_notice.call(str(notice.id)) == "queued"
    notice.refresh_from_db()
    assert (notice.attempts, notice.state) == (2, NoticeState.CONFIRMED)
    # Back up: sent, once.
    takedown_settings.MAILERS = {
        **takedown_settings.MAILERS,
        "notices": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        },
    }
    smtp_server.inbox.refuse = False
    assert tasks.send_notice.call(str(notice.id)) == "sent"
    assert tasks.send_notice.call(str(notice.id)) == "not queued"
    [message] = smtp_server.inbox.messages
    [part] = xarf_parts(message)
    data = json.loads(part)
    assert (data["type"], data["exploitation_type"]) == ("csem", "grooming")
    assert xarf.parse(part, strict=True).errors == []


def test_an_analyst_fills_in_an_unknown_host_and_a_second_confirms(
    hosted: dict[str, str], smtp_server: SmtpServer
) -> None:
    report = factories.report("csam", details={"urls": [hosted["unknown"]]}).report
    ana, ben = _decide_notice(report, category_values={"legal_assessment": "baseline"})
    tasks.prepare_notices.call(str(report.id))
    assert not Notice.objects.exists()
    form = {
        "host": "nowhere.example",
        "provider": "Nowhere Hosting",
        "abuse_email": "abuse@nowhere.example\r\nBcc: all@evil.example",
        "language": "hi",
        "country": "IN",
    }
    assert ana.post(_url(report, "takedown/host/"), form).status_code == 403
    assert not HostRecord.objects.filter(source="analyst").exists()
    for bad in ({"country": "1!"}, {"language": "xx"}, {"host": "other.example"}):
        assert ana.post(_url(report, "takedown/host/"), {**form, **bad}).status_code == 403
    form["abuse_email"] = "abuse@nowhere.example"
    assert ana.post(_url(report, "takedown/host/"), form).status_code == 302
    notice = Notice.objects.get(report=report)
    assert (notice.state, notice.language) == (NoticeState.DRAFTED, "hi")
    # Four eyes: the analyst who drafted it may not confirm it.
    assert ana.post(_url(report, f"notices/{notice.id}/confirm/")).status_code == 403
    assert ben.post(_url(report, f"notices/{notice.id}/confirm/")).status_code == 302
    assert tasks.send_notice.call(str(notice.id)) == "sent"
    [message] = smtp_server.inbox.messages
    assert "बाल यौन शोषण सामग्री" in readable_body(message)
    assert ben.post(_url(report, f"notices/{notice.id}/acknowledge/")).status_code == 302
    notice.refresh_from_db()
    assert notice.state == NoticeState.ACKNOWLEDGED


def test_plain_notice_for_stalking_in_the_table_providers_language(
    takedown_settings: SettingsWrapper, dns_server: DnsServer, smtp_server: SmtpServer
) -> None:
    dns_server.records["profile.table-host.test"] = "203.0.113.5"
    report = factories.report(
        "cyberstalking", details={"urls": ["https://profile.table-host.test/u/1"]}
    ).report
    user = factories.staff("cara").user
    from tipline.cases import actions as case_actions
    from tipline.cases import review, transitions
    from tipline.cases.states import Outcome

    case_actions.report_claim(actor=user, report=report)
    # A notice asserts illegality: the legal assessment first (issue 15).
    review.classification_set(actor=user, report=report, values={"legal_assessment": "national"})
    transitions.report_decide(actor=user, report=report, outcome=Outcome.NOTICE_SENT)
    actions.notices_open(actor=user.username, report=report)
    tasks.prepare_notices.call(str(report.id))
    notice = Notice.objects.get(report=report)
    assert (notice.kind, notice.language, notice.provider) == ("plain", "fr", "Table Hosting")
    assert tasks.send_notice.call(str(notice.id)) == "sent"
    [message] = smtp_server.inbox.messages
    assert xarf_parts(message) == []
    assert "harcèlement" in readable_body(message)


def test_reminder_then_escalation_shown_as_a_console_task(
    hosted: dict[str, str], smtp_server: SmtpServer
) -> None:
    report = factories.report("csam", details={"urls": [hosted["one"]]}).report
    ana, _ = _decide_notice(report, category_values={"legal_assessment": "baseline"})
    tasks.prepare_notices.call(str(report.id))
    notice = Notice.objects.get(report=report)
    tasks.send_notice.call(str(notice.id))
    later = timezone.now() + timedelta(hours=49)
    assert steps.follow_ups(now=later, enqueue_send=tasks.enqueue_send)["reminded"] == 1
    assert tasks.send_notice.call(str(notice.id)) == "sent"
    assert len(smtp_server.inbox.messages) == 2
    notice.refresh_from_db()
    assert notice.reminded_at is not None
    assert notice.state == NoticeState.SENT
    assert (
        steps.follow_ups(
            now=timezone.now() + timedelta(hours=121), enqueue_send=tasks.enqueue_send
        )["escalated"]
        == 1
    )
    notice.refresh_from_db()
    assert notice.state == NoticeState.ESCALATED
    page = ana.get(_url(report)).content.decode()
    assert "To do: escalate" in page
    # Germany's hotline from the jurisdictions table, if the table has one; else the fallback.
    assert "Pass it to" in page or "no checked hotline" in page


def test_a_new_report_of_a_removed_url_reopens_tracking(
    hosted: dict[str, str], smtp_server: SmtpServer, web_server: HttpServer
) -> None:
    first = factories.report("csam", details={"urls": [hosted["one"]]}).report
    _decide_notice(first, category_values={"legal_assessment": "baseline"})
    tasks.prepare_notices.call(str(first.id))
    tasks.send_notice.call(str(Notice.objects.get(report=first).id))
    web_server.routes["/folder/1"] = Answer(404)
    tasks.recheck_due()
    second = factories.report("csam", details={"urls": [hosted["one"]]}).report
    from tipline.cases import actions as case_actions
    from tipline.cases import review, transitions
    from tipline.cases.states import Outcome

    cara = factories.staff("cara").user
    dan = factories.staff("dan").user
    case_actions.report_claim(actor=cara, report=second)
    review.classification_set(
        actor=cara, report=second, values={"legal_assessment": "baseline", "severity": "C"}
    )
    transitions.report_decide(actor=cara, report=second, outcome=Outcome.NOTICE_SENT)
    transitions.report_confirm(actor=dan, report=second)
    [again] = actions.notices_open(actor=dan.username, report=second)
    assert again.reopened_reason == "reported_again"


def test_a_notice_of_another_report_is_not_found(
    hosted: dict[str, str], smtp_server: SmtpServer
) -> None:
    report = factories.report("csam", details={"urls": [hosted["one"]]}).report
    ana, _ = _decide_notice(report, category_values={"legal_assessment": "baseline"})
    tasks.prepare_notices.call(str(report.id))
    notice = Notice.objects.get(report=report)
    other = factories.report("csam").report
    assert ana.post(_url(other, f"notices/{notice.id}/acknowledge/")).status_code == 404
    assert ana.post(_url(report, "notices/not-a-uuid/acknowledge/")).status_code == 404


def test_retention_erasure_blanks_the_tracked_urls_but_keeps_the_times(
    hosted: dict[str, str], smtp_server: SmtpServer, web_server: HttpServer
) -> None:
    report = factories.report("csam", details={"urls": [hosted["one"], hosted["two"]]}).report
    _decide_notice(report, category_values={"legal_assessment": "baseline"})
    tasks.prepare_notices.call(str(report.id))
    tasks.send_notice.call(str(Notice.objects.get(report=report).id))
    web_server.routes["/folder/1"] = Answer(404)
    tasks.recheck_due()
    # The real retention run, a year and more after the decision.
    from tipline.cases import retention

    later = timezone.now() + timedelta(days=800)
    retention.apply(retention.iter_plan(later), actor="system", now=later)
    report.refresh_from_db()
    assert report.content_erased_at is not None
    before = len(web_server.requests)
    counts = tasks.recheck_due(now=later)
    assert counts["erased"] == 2
    rows = list(TrackedUrl.objects.filter(report=report))
    assert {(t.url, t.host) for t in rows} == {("", "")}
    gone = [t for t in rows if t.removed_at is not None]
    assert len(gone) == 1
    assert gone[0].notice_sent_at is not None
    assert gone[0].provider == "Pics Host GmbH"
    assert len(web_server.requests) == before  # erased URLs are no longer fetched
    verify()


def test_tracked_urls_are_sealed_at_rest(db: None) -> None:
    """PRODUCT.md: URLs are never readable at rest; a tracked URL is sealed, found by digest."""
    from django.db import connection

    from tipline.takedown.models import TrackedUrl
    from tipline.takedown.sealing import seal_url

    report: Report = factories.report(category="csam", text="A gallery.").report
    address = "https://files.example/hidden-gallery-4471"
    digest, sealed = seal_url(report.id, address)
    row = TrackedUrl.objects.create(
        report=report,
        url_digest=digest,
        url_sealed=sealed,
        host="files.example",
        created_at=report.created_at,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM takedown_trackedurl WHERE id = %s", [row.pk])
        raw = repr(cursor.fetchone())
    assert "hidden-gallery-4471" not in raw
    assert TrackedUrl.objects.get(url_digest=digest).url == address
