"""Console views for work on a case: classify, decide, second review, notes, links, hold.

Adapters only, like ``tipline.console.reports``: every report arrives through ``with_report``
(the access function), every change is one action that checks its own rules and writes its
audit entry. A refusal from an action is shown as a calm "nothing was changed" page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tipline.cases import linking, retention, review, transitions
from tipline.cases.access import ReportNotFound, report_for_staff
from tipline.cases.models import Report
from tipline.cases.policies import NotAllowed
from tipline.cases.states import Outcome
from tipline.console.case_forms import ClassificationForm, DecisionForm, LinkForm, NoteForm
from tipline.console.case_page import case_page
from tipline.console.shared import refused, with_report
from tipline.staff.models import StaffUser
from tipline.takedown.actions import notices_open


def _back(report: Report, anchor: str = "") -> HttpResponse:
    return HttpResponseRedirect(reverse("console:case", args=[report.id]) + anchor)


def _attempt(
    request: HttpRequest, report: Report, change: Callable[[], object], anchor: str = ""
) -> HttpResponse:
    try:
        change()
    except NotAllowed as exc:
        return refused(request, report, str(exc))
    return _back(report, anchor)


@require_POST
@with_report
def classify(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    form = ClassificationForm(request.POST, category=report.category)
    if not form.is_valid():
        return case_page(request, report, forms={"classification": form}, status=400)
    return _attempt(
        request,
        report,
        lambda: review.classification_set(actor=user, report=report, values=form.values()),
        "#decision",
    )


@require_POST
@with_report
def decide(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return case_page(request, report, forms={"decision": form}, status=400)
    try:
        transitions.report_decide(
            actor=user,
            report=report,
            outcome=Outcome(form.cleaned_data["outcome"]),
            agency=form.cleaned_data.get("agency") or "",
            right_tier=form.correction(),
        )
        # A "notice" decision that took effect (no four eyes needed) starts the takedown.
        notices_open(actor=user.username, report=report)
    except transitions.ClassificationIncomplete as exc:
        # The action's own refusal, shown on the form (with the choices kept) rather than on a
        # "nothing was changed" page: the analyst classifies just above and proposes again.
        reason = str(exc)
        form.add_error("outcome", reason[:1].upper() + reason[1:] + ".")
        return case_page(request, report, forms={"decision": form}, status=400)
    except NotAllowed as exc:
        return refused(request, report, str(exc))
    return _back(report, "#decision")


@require_POST
@with_report
def confirm(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    def change() -> None:
        transitions.report_confirm(actor=user, report=report)
        notices_open(actor=user.username, report=report)  # a confirmed "notice" decision

    return _attempt(request, report, change, "#decision")


@require_POST
@with_report
def send_back(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    # The reason, if given, becomes a note, in the same request as the state change.
    form = NoteForm(request.POST)
    reason = form.cleaned_data["body"] if form.is_valid() else ""

    def change() -> None:
        transitions.report_send_back(actor=user, report=report)
        if reason:
            review.note_add(actor=user, report=report, body=reason)

    return _attempt(request, report, change, "#decision")


@require_POST
@with_report
def withdraw(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    return _attempt(
        request, report, lambda: transitions.report_withdraw(actor=user, report=report), "#decision"
    )


@require_POST
@with_report
def reopen(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    return _attempt(
        request, report, lambda: transitions.report_reopen(actor=user, report=report), "#decision"
    )


@require_POST
@with_report
def note(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    form = NoteForm(request.POST)
    if not form.is_valid():
        return case_page(request, report, forms={"note": form}, status=400)
    return _attempt(
        request,
        report,
        lambda: review.note_add(actor=user, report=report, body=form.cleaned_data["body"]),
        "#notes",
    )


def _other(request: HttpRequest, user: StaffUser, report: Report) -> Report | HttpResponse:
    form = LinkForm(request.POST)
    if not form.is_valid():
        return case_page(request, report, forms={"link": form}, status=400)
    try:
        return report_for_staff(user, form.cleaned_data["other"])
    except ReportNotFound:
        form.add_error("other", _("No report you can open has this id."))
        return case_page(request, report, forms={"link": form}, status=400)


LinkChange = Callable[..., bool]


def _relink(
    request: HttpRequest, user: StaffUser, report: Report, change: LinkChange
) -> HttpResponse:
    other = _other(request, user, report)
    if isinstance(other, HttpResponse):
        return other
    return _attempt(
        request, report, lambda: change(actor=user, report=report, other=other), "#related"
    )


@require_POST
@with_report
def link(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    return _relink(request, user, report, review.report_link)


@require_POST
@with_report
def unlink(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    return _relink(request, user, report, review.report_unlink)


@require_POST
@with_report
def legal_hold(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    hold = request.POST.get("hold") == "on"
    return _attempt(
        request,
        report,
        lambda: retention.report_set_legal_hold(actor=user, report=report, hold=hold),
        "#retention",
    )


@require_POST
@with_report
def cluster_split(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    return _attempt(
        request, report, lambda: linking.cluster_split(actor=user, report=report), "#triage"
    )
