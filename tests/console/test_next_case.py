"""The daily loop's "next case" and the shortcut help that every console page carries (issue 15)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.console.helpers import signed_in
from tipline.cases import actions, queue
from tipline.cases.models import Report
from tipline.cases.states import ReportState

pytestmark = pytest.mark.django_db


def test_next_case_is_the_top_of_the_queue_that_nobody_holds() -> None:
    older_low = factories.report("other").report  # P4
    urgent = factories.report("child_in_danger").report  # P1
    held = factories.report("child_in_danger").report
    waiting = factories.report("child_in_danger").report
    ana, user = signed_in("ana")
    ben = factories.staff("ben").user
    actions.report_claim(actor=ben, report=held)
    Report.objects.filter(pk=waiting.pk).update(state=ReportState.AWAITING_SECOND_REVIEW)
    Report.objects.filter(pk=held.pk).update(created_at=older_low.created_at)
    answer = ana.get("/console/next/")
    assert answer.status_code == 302
    assert answer["Location"] == f"/console/reports/{urgent.id}/"
    # Opening it claims nothing.
    urgent.refresh_from_db()
    assert urgent.assigned_to_id is None
    actions.report_claim(actor=user, report=urgent)
    assert ana.get("/console/next/")["Location"] == f"/console/reports/{older_low.id}/"
    assert queue.next_unclaimed(user) == older_low.id


def test_with_nothing_waiting_the_page_says_so_calmly() -> None:
    ana, _ = signed_in("ana")
    answer = ana.get("/console/next/?after=<script>x</script>")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Nothing is waiting to be claimed" in page
    assert "<script>x" not in page
    assert answer["Cache-Control"] == "no-store"
    assert ana.post("/console/next/").status_code == 405


@pytest.mark.parametrize("role", ["auditor", "liaison"])
def test_roles_that_do_not_claim_are_sent_home_and_get_no_next_link(role: str) -> None:
    factories.report("child_in_danger")
    client, _ = signed_in(role, role)
    assert client.get("/console/next/")["Location"] == "/console/"
    page = client.get("/console/", follow=True).content.decode()
    assert 'data-action="next-case"' not in page
    assert 'id="shortcuts-help"' in page


def test_console_pages_carry_the_bar_and_the_help_but_the_sign_in_page_does_not() -> None:
    report = factories.report("luring").report
    ana, _ = signed_in("ana")
    page = ana.get(f"/console/reports/{report.id}/").content.decode()
    assert 'href="/console/next/" data-action="next-case" aria-keyshortcuts="n"' in page
    assert 'aria-keyshortcuts="?"' in page
    assert '<dialog id="shortcuts-help"' in page
    assert 'src="/static/console/shortcuts.js"' in page
    anonymous = Client().get("/console/sign-in/").content.decode()
    assert "shortcuts" not in anonymous
    assert "next-case" not in anonymous
