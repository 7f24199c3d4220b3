"""Re-appearance: a later report of a tracked address, or of a file with the same hash, re-opens
tracking of it and says so in both case views. Real DNS, RDAP, SMTP and web servers, and the real
triage step that records the later report's identifiers (any channel)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.console.helpers import signed_in
from tests.queued import queued
from tests.takedown.servers import Answer, HttpServer, SmtpServer
from tests.takedown.test_notices import _decide_notice, _url, hosted  # noqa: F401 (fixture)
from tipline.audit.chain import verify
from tipline.audit.models import AuditEntry
from tipline.cases.models import Report, ReportIdentifier
from tipline.cases.states import Channel
from tipline.crypto import identifier_digest
from tipline.takedown import tasks
from tipline.takedown.models import (
    Notice,
    NoticeState,
    Reappearance,
    TrackedUrl,
    UrlState,
)
from tipline.takedown.sealing import url_digest
from tipline.triage.identifiers import canonical_url

pytestmark = pytest.mark.django_db

IMAGE = factories.png_bytes(colour="olive")


def _removed(report: Report, web_server: HttpServer) -> TrackedUrl:
    """Decide, send and re-check the report's notice until its first URL is removed."""
    _decide_notice(report, category_values={"legal_assessment": "baseline"})
    tasks.prepare_notices.call(str(report.id))
    tasks.send_notice.call(str(Notice.objects.get(report=report).id))
    web_server.routes["/folder/1"] = Answer(404)
    tasks.recheck_due()
    tracked = TrackedUrl.objects.get(report=report)
    assert tracked.state == UrlState.REMOVED
    return tracked


def _removed_with_file(url: str, web_server: HttpServer) -> tuple[Report, TrackedUrl]:
    """A platform's report of ``url`` with an image (the public never uploads), hashed by the
    worker, its address removed after the notice."""
    first = factories.report(
        "csam",
        details={"urls": [url]},
        uploads=[factories.upload("a.png", IMAGE)],
        channel=Channel.PARTNER,
    ).report
    factories.run_tasks(first)
    return first, _removed(first, web_server)


def _later(urls: list[str], uploads: tuple[object, ...] = (), channel: str = Channel.API) -> Report:
    """A later report, and the worker's triage of it; returns it after the re-appearance task."""
    later = factories.report("csam", details={"urls": urls}, uploads=uploads, channel=channel)
    factories.run_tasks(later.report)
    for waiting in queued(tasks.reappearance_check):
        tasks.reappearance_check.call(*waiting.args)
        waiting.delete()
    return later.report


def test_a_later_report_of_a_removed_url_in_another_spelling_reopens_tracking(
    hosted: dict[str, str],  # noqa: F811
    smtp_server: SmtpServer,
    web_server: HttpServer,
) -> None:
    first = factories.report("csam", details={"urls": [hosted["one"]]}).report
    tracked = _removed(first, web_server)
    removed_at = tracked.removed_at
    # Scheme and host case, a fragment and a tracking parameter: the same address.
    spelled = hosted["one"].replace("http://pics.example", "HTTP://PICS.Example")
    later = _later([spelled + "?utm_source=feed#top"])

    tracked.refresh_from_db()
    assert tracked.state == UrlState.ONLINE
    assert tracked.reopened_reason == "reported_again"
    assert tracked.removed_at == removed_at  # kept until a check tells
    assert Notice.objects.get(report=first).state == NoticeState.SENT
    [again] = Reappearance.objects.filter(tracked=tracked)
    assert (again.report_id, again.reason, again.reopened) == (later.id, "same_url", True)
    [entry] = AuditEntry.objects.filter(action="takedown.reported_again")
    assert entry.target_id == str(first.id)
    assert entry.details["report"] == str(later.id)
    assert "pics.example" not in str(entry.details)  # never the address in the audit log

    cara, _ = signed_in("cara")
    day = again.at.strftime("%Y-%m-%d")
    first_page = cara.get(_url(first)).content.decode()
    assert f"reported again on {day} in report" in first_page
    assert str(later.id)[:8] in first_page
    later_page = cara.get(_url(later)).content.decode()
    assert f"Reported again on {day} in this report" in later_page
    assert str(first.id)[:8] in later_page

    # Still gone at the next re-check: removed again, with its first removal time.
    tasks.recheck_due()
    tracked.refresh_from_db()
    assert tracked.state == UrlState.REMOVED
    assert tracked.removed_at == removed_at
    assert Notice.objects.get(report=first).state == NoticeState.REMOVED
    verify()


def test_serving_after_being_reported_again_clears_the_removal(
    hosted: dict[str, str],  # noqa: F811
    smtp_server: SmtpServer,
    web_server: HttpServer,
) -> None:
    first = factories.report("csam", details={"urls": [hosted["one"]]}).report
    tracked = _removed(first, web_server)
    _later([hosted["one"]])
    web_server.routes["/folder/1"] = Answer(200)
    tasks.recheck_due()
    tracked.refresh_from_db()
    assert (tracked.state, tracked.removed_at) == (UrlState.ONLINE, None)
    assert tracked.reopened_reason == "served_again"


def test_a_later_report_with_a_file_of_the_same_hash_reopens_tracking(
    hosted: dict[str, str],  # noqa: F811
    smtp_server: SmtpServer,
    web_server: HttpServer,
) -> None:
    first, tracked = _removed_with_file(hosted["one"], web_server)
    later = _later([], uploads=(factories.upload("b.png", IMAGE),), channel=Channel.HOTLINE)
    tracked.refresh_from_db()
    assert tracked.state == UrlState.ONLINE
    [again] = Reappearance.objects.filter(tracked=tracked)
    assert (again.report_id, again.reason) == (later.id, "same_file")
    cara, _ = signed_in("cara")
    assert "a file with the same hash" in cara.get(_url(first)).content.decode()


def test_a_different_file_or_an_unrelated_report_reopens_nothing(
    hosted: dict[str, str],  # noqa: F811
    smtp_server: SmtpServer,
    web_server: HttpServer,
) -> None:
    _first, tracked = _removed_with_file(hosted["one"], web_server)
    _later(
        ["http://elsewhere.example/folder/1"],
        uploads=(factories.upload("c.png"),),
        channel=Channel.HOTLINE,
    )
    tracked.refresh_from_db()
    assert tracked.state == UrlState.REMOVED
    assert not Reappearance.objects.exists()


def test_path_case_and_trailing_slash_name_other_addresses(
    hosted: dict[str, str],  # noqa: F811
    smtp_server: SmtpServer,
    web_server: HttpServer,
) -> None:
    """Documented choice: servers may answer /folder/1, /Folder/1 and /folder/1/ differently."""
    first = factories.report("csam", details={"urls": [hosted["one"]]}).report
    tracked = _removed(first, web_server)
    _later([hosted["one"] + "/", hosted["one"].replace("/folder/", "/Folder/")])
    tracked.refresh_from_db()
    assert tracked.state == UrlState.REMOVED
    assert not Reappearance.objects.exists()


def test_triage_running_again_counts_a_later_report_once(
    hosted: dict[str, str],  # noqa: F811
    smtp_server: SmtpServer,
    web_server: HttpServer,
) -> None:
    first = factories.report("csam", details={"urls": [hosted["one"]]}).report
    tracked = _removed(first, web_server)
    later = _later([hosted["one"]])
    # The reporter writes again: triage runs again; the address is not re-opened twice.
    tasks.reappearance_check.call(str(later.id))
    factories.run_tasks(later)
    assert Reappearance.objects.filter(tracked=tracked).count() == 1
    assert AuditEntry.objects.filter(action="takedown.reported_again").count() == 1


def test_a_report_split_off_its_cluster_reopens_nothing(
    hosted: dict[str, str],  # noqa: F811
    smtp_server: SmtpServer,
    web_server: HttpServer,
) -> None:
    """An analyst's split marks identifiers detached: they no longer link, nor re-open."""
    first = factories.report("csam", details={"urls": [hosted["one"]]}).report
    tracked = _removed(first, web_server)
    later = factories.report("csam", details={"urls": [hosted["one"]]}).report
    factories.run_tasks(later)
    ReportIdentifier.objects.filter(report=later).update(detached=True)
    tasks.reappearance_check.call(str(later.id))
    tracked.refresh_from_db()
    assert tracked.state == UrlState.REMOVED


def test_a_viewer_who_may_not_open_the_other_report_sees_no_id(
    hosted: dict[str, str],  # noqa: F811
    smtp_server: SmtpServer,
    web_server: HttpServer,
) -> None:
    """The console passes the reports the viewer may open (ReportPolicy.visible); others unnamed."""
    from django.template.loader import render_to_string

    from tipline.takedown.selectors import takedown_for

    first = factories.report("csam", details={"urls": [hosted["one"]]}).report
    _removed(first, web_server)
    later = _later([hosted["one"]])
    context = {"takedown": takedown_for(later), "report": later}
    hidden = render_to_string("console/_notices.html", {**context, "takedown_visible": set()})
    assert str(first.id)[:8] not in hidden
    assert "(a report you may not open)" in hidden
    shown = render_to_string("console/_notices.html", {**context, "takedown_visible": {first.id}})
    assert f'href="/console/reports/{first.id}/"' in shown


def test_the_tracked_digest_is_the_linking_digest() -> None:
    address = "https://WWW.Files.example:443/a/B?utm_medium=x&k=1#frag"
    assert url_digest(address) == identifier_digest("url", canonical_url(address) or "")
    assert url_digest("not a url at all") == identifier_digest("url", "not a url at all")


def test_an_address_of_an_unknown_host_reported_again_says_so_too(
    hosted: dict[str, str],  # noqa: F811
    smtp_server: SmtpServer,
    web_server: HttpServer,
) -> None:
    """No abuse contact yet, so no notice: the line is shown in the unknown host's box."""
    first = factories.report("csam", details={"urls": [hosted["unknown"]]}).report
    _decide_notice(first, category_values={"legal_assessment": "baseline"})
    tasks.prepare_notices.call(str(first.id))
    tracked = TrackedUrl.objects.get(report=first)
    assert tracked.notice_id is None
    later = _later([hosted["unknown"]])
    assert tracked.state == UrlState.AWAITING  # nothing was removed: the line alone
    cara, _ = signed_in("cara")
    page = cara.get(_url(first)).content.decode()
    assert "reported again on" in page
    assert str(later.id)[:8] in page
