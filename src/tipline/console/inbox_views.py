"""The inbox of reporter activity: new messages and files on any report, unread per person and
per team (``tipline.cases.inbox``). Nothing here decrypts; opening a case marks it read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tipline.cases import categories, inbox
from tipline.cases.models import Report
from tipline.cases.policies import ReportPolicy
from tipline.cases.states import ReportState
from tipline.console.shared import no_store, not_found, refused, staff_of, with_report
from tipline.staff.models import StaffUser

SHOW = ("mine", "team", "all")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InboxForm(forms.Form):
    show = forms.ChoiceField(required=False, choices=[(s, s) for s in SHOW])
    # Microseconds since 1970 of the last entry shown (the next page starts before it).
    before = forms.IntegerField(required=False, min_value=0, max_value=10**17)


@require_GET
def inbox_page(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    if not ReportPolicy.may_read_inbox(user):
        return not_found(request)
    form = InboxForm(request.GET)
    if not form.is_valid():
        return not_found(request)
    show = form.cleaned_data["show"] or "mine"
    micros = form.cleaned_data["before"]
    before = _EPOCH + timedelta(microseconds=micros) if micros is not None else None
    entries, next_before = inbox.inbox_page(user, show=show, before=before)
    base = reverse("console:inbox")
    tabs = [
        {"label": label, "url": f"{base}?show={value}", "current": value == show}
        for value, label in (
            ("mine", _("Unread by me")),
            ("team", _("Unread by the team")),
            ("all", _("All")),
        )
    ]
    context = {
        "entries": [
            {
                "entry": e,
                "category": categories.get(e.category).label,
                "state": ReportState(e.state).label,
                "left_queue": e.state in (ReportState.ACTIONED, ReportState.CLOSED),
            }
            for e in entries
        ],
        "tabs": tabs,
        "show": show,
        "now": timezone.now(),
        "next_before": (next_before - _EPOCH) // timedelta(microseconds=1) if next_before else "",
        "paged": before is not None,
    }
    return no_store(render(request, "console/inbox.html", context))


@require_POST
@with_report
def inbox_read(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    if not ReportPolicy.may_read_inbox(user):
        return refused(request, report, _("the inbox is the hotline's caseworkers'"))
    inbox.inbox_mark_read(actor=user, report=report)
    show = request.POST.get("show", "")
    return HttpResponseRedirect(
        reverse("console:inbox") + (f"?show={show}" if show in SHOW else "")
    )
