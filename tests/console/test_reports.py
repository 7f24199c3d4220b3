"""The queue page and the case view, through the real middleware stack and a verified session."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.console.helpers import signed_in
from tipline.audit.models import AuditEntry
from tipline.cases.models import Report
from tipline.cases.states import ReportState

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def public_status(receipt: str) -> str:
    page = Client().post("/en/follow-up/", {"receipt": receipt}).content.decode()
    match = re.search(r'id="report-status">([^<]+)<', page)
    assert match is not None
    return match.group(1)


# --- queue ------------------------------------------------------------------------------------


def test_home_links_to_the_queue() -> None:
    client, _ = signed_in("ana")
    assert 'href="/console/queue/"' in client.get("/console/").content.decode()


def test_queue_shows_the_urgent_report_first_with_its_deadline_and_no_report_text() -> None:
    factories.report("other", text="The secret words of the reporter.")
    urgent = factories.report("child_in_danger").report
    Report.objects.filter(pk=urgent.pk).update(created_at=timezone.now() - timedelta(minutes=130))
    client, _ = signed_in("ana")
    page = client.get("/console/queue/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    text = page.content.decode()
    assert text.index("A child is in danger right now") < text.index("Something else that worries")
    assert "2 h 10 min" in text
    assert "Overdue" in text  # P1: one hour
    assert "secret words" not in text
    assert not AuditEntry.objects.filter(action__startswith="report.").exists()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("category=nonsense", "Select a valid choice"),
        ("state=<script>", "Select a valid choice"),
        ("assignee=everyone", "Select a valid choice"),
        ("created_from=31/02/2026", "Enter a date like 2026-03-31."),
        ("created_from=9999-12-31", "Enter a date between 2000 and 2100."),
        ("created_from=2026-05-02&created_to=2026-05-01", "The end date is before the start date."),
        ("after=P1.1.1.zz", "This page link is not valid."),
        ("after=" + "A" * 500, "This page link is not valid."),
        ("country=QQ", "Choose a country from the list."),
        ("country=fr", "Choose a country from the list."),
        ("country=FRA", "Choose a country from the list."),
        ("country=EU", "Choose a country from the list."),
        ("country=%3Cscript%3E", "Choose a country from the list."),
        ("country=" + "F" * 200_000, "Choose a country from the list."),
        ("country=F%00", "Choose a country from the list."),
    ],
)
def test_bad_filters_get_a_clear_message_never_a_500(query: str, message: str) -> None:
    factories.report()
    client, _ = signed_in("ana")
    page = client.get("/console/queue/?" + query)
    assert page.status_code == 400
    text = page.content.decode()
    assert message in text
    assert "<script>" not in text


def test_a_huge_country_value_is_not_echoed_back() -> None:
    client, _ = signed_in("ana")
    page = client.get("/console/queue/?country=" + "Z" * 200_000)
    assert page.status_code == 400
    assert len(page.content) < 100_000


def test_queue_country_filter_shows_the_code_and_offers_names_in_the_page_language() -> None:
    french = factories.report("luring").report
    Report.objects.filter(pk=french.pk).update(country="FR")
    factories.report("luring")
    client, _user = signed_in("ana")
    page = client.get("/console/queue/?country=FR")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('class="case-link"') == 1
    assert '<abbr class="muted mono country" title="France">FR</abbr>' in text
    assert "Filters (in use)" in text
    not_said = client.get("/console/queue/?country=none").content.decode()
    assert not_said.count('class="case-link"') == 1
    assert 'title="France"' not in not_said
    options = re.findall(r'<option value="([A-Z]{2})"', text)
    assert len(options) > 240
    assert options.index("AX") < options.index("AL")  # Åland sorts as Aland, in English
    assert '<option value="none">Not said</option>' in text
    assert '<option value="" >Any country</option>' in text or "Any country" in text


def test_queue_filters_and_next_page_link() -> None:
    for _ in range(3):
        factories.report("luring")
    factories.report("other")
    client, _user = signed_in("ana")
    page = client.get("/console/queue/?category=luring&assignee=anyone")
    text = page.content.decode()
    assert text.count('class="case-link"') == 3
    assert "Something else" not in text.split("<table", 1)[1]
    assert 'rel="next"' not in text


def test_claim_from_the_queue_changes_what_the_reporter_sees() -> None:
    created = factories.report("child_in_danger")
    assert public_status(created.receipt) == "Received"
    client, _ = signed_in("ana")
    response = client.post(f"/console/reports/{created.report.id}/claim/", {"back": "queue"})
    assert response["Location"] == "/console/queue/"
    created.report.refresh_from_db()
    assert created.report.state == ReportState.IN_REVIEW
    assert public_status(created.receipt) == "In review"
    mine = client.get("/console/queue/?assignee=me").content.decode()
    assert mine.count('class="case-link"') == 1


def test_an_analyst_cannot_assign_and_gets_a_plain_refusal() -> None:
    report = factories.report().report
    factories.staff("bo", "analyst")
    client, _ = signed_in("ana")
    response = client.post(f"/console/reports/{report.id}/assign/", {"assignee": "bo"})
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.assigned_to is None


def test_a_supervisor_assigns_from_the_case_view() -> None:
    report = factories.report().report
    factories.staff("bo", "analyst")
    factories.staff("audrey", "auditor")
    client, _ = signed_in("sue", "supervisor")
    page = client.get(f"/console/reports/{report.id}/").content.decode()
    assert '<option value="bo">' in page
    assert "audrey" not in page  # only people who work on reports are offered
    response = client.post(f"/console/reports/{report.id}/assign/", {"assignee": "bo"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.assigned_to is not None
    assert report.assigned_to.username == "bo"
    bad = client.post(f"/console/reports/{report.id}/assign/", {"assignee": "audrey"})
    assert bad.status_code == 403


# --- case view --------------------------------------------------------------------------------


def test_case_view_shows_every_answer_escaped_and_identifiers_as_plain_text() -> None:
    created = factories.report(
        "luring",
        text=HOSTILE,
        details={
            "urls": ["https://abuse.example/room?id=<b>1</b>"],
            "emails": ["him@example.org"],
            "phones": ["+44 7700 900123"],
            "platform": "Gamechat",
            "meeting_planned": "yes",
        },
    )
    client, _ = signed_in("ana")
    page = client.get(f"/console/reports/{created.report.id}/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    text = page.content.decode()
    assert "<script>alert" not in text
    assert "<img src=x" not in text
    assert "&lt;script&gt;" in text
    assert "https://abuse.example/room?id=&lt;b&gt;1&lt;/b&gt;" in text
    assert 'href="https://abuse' not in text
    assert "mailto:" not in text
    assert "tel:" not in text
    for label in ("Where (site or app)", "Meeting arranged or asked for", "Phone numbers"):
        assert label in text
    assert "Gamechat" in text
    assert "+44 7700 900123" in text
    logged = list(
        AuditEntry.objects.filter(target_id=str(created.report.id)).values_list("actor", "action")
    )
    assert logged == [("ana", "report.view"), ("ana", "report.decrypt")]


def test_contact_details_only_on_an_explicit_audited_post() -> None:
    created = factories.report(contact={"contact_email": "me@example.org", "contact_name": "Sam"})
    client, _ = signed_in("ana")
    page = client.get(f"/console/reports/{created.report.id}/").content.decode()
    assert "me@example.org" not in page
    assert "Show contact details" in page
    assert client.get(f"/console/reports/{created.report.id}/contact/").status_code == 405
    shown = client.post(f"/console/reports/{created.report.id}/contact/").content.decode()
    assert "me@example.org" in shown
    assert "Sam" in shown
    assert AuditEntry.objects.filter(action="report.decrypt_contact", actor="ana").count() == 1


def test_a_message_from_the_console_appears_on_the_reporters_page() -> None:
    created = factories.report()
    client, _ = signed_in("ana")
    empty = client.post(f"/console/reports/{created.report.id}/message/", {"body": "  "})
    assert empty.status_code == 400
    assert "Write the message first." in empty.content.decode()
    sent = client.post(
        f"/console/reports/{created.report.id}/message/",
        {"body": "Thank you. Which app was it?"},
    )
    assert sent.status_code == 302
    thread = Client().post("/en/follow-up/", {"receipt": created.receipt}).content.decode()
    assert "Thank you. Which app was it?" in thread
    assert "ana" not in thread  # the reporter sees "Hotline", never a staff name
    assert AuditEntry.objects.filter(action="report.message", actor="ana").count() == 1


def test_files_are_listed_and_previews_are_blurred_until_revealed() -> None:
    created = factories.report(uploads=[factories.upload(), factories.upload("notes.txt", b"hi")])
    factories.run_tasks(created.report)
    image = created.report.files.exclude(preview_object_id="").get()
    client, _ = signed_in("ana")
    text = client.get(f"/console/reports/{created.report.id}/").content.decode()
    assert "screenshot.png" in text
    assert "notes.txt" in text
    assert text.count('class="evidence-preview"') == 1
    assert " revealed" not in text
    assert " style=" not in text
    preview = client.get(f"/console/files/{image.id}/preview")
    assert preview.status_code == 200
    assert preview["Content-Type"] == "image/webp"  # the stored preview (tests/cases: no metadata)
    assert preview["Cache-Control"] == "no-store"
    assert preview["X-Content-Type-Options"] == "nosniff"
    assert preview["Content-Disposition"].startswith("inline")
    assert AuditEntry.objects.filter(action="file.preview", target_id=str(image.id)).exists()
    revealed = client.post(f"/console/files/{image.id}/reveal").content.decode()
    assert 'class="evidence-preview revealed"' in revealed
    assert AuditEntry.objects.filter(action="file.reveal", actor="ana").count() == 1
    # The next page view is blurred again.
    again = client.get(f"/console/reports/{created.report.id}/").content.decode()
    assert "evidence-preview revealed" not in again


def test_no_route_serves_an_original_upload_to_an_analyst() -> None:
    created = factories.report(uploads=[factories.upload("notes.txt", b"plain words")])
    text_file = created.report.files.get()
    client, _ = signed_in("ana")
    # A text file has no image rendition; its viewer is a console page with the text escaped.
    assert client.get(f"/console/files/{text_file.id}/preview").status_code == 404
    viewer = client.get(f"/console/files/{text_file.id}/")
    assert viewer["Content-Type"].startswith("text/html")
    assert viewer.content != b"plain words"
    # The original: by POST only, and only for roles that may export (tests/console/test_files).
    assert client.get(f"/console/files/{text_file.id}/original").status_code == 405
    assert client.post(f"/console/files/{text_file.id}/original").status_code == 404
