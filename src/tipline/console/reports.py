"""Console views for reports: the queue, the case view and the work done from them.

Adapters only: parse the request, get the report or file through ``tipline.cases.access`` (which
answers "not found" alike for missing, forbidden and malformed), call an action or an audited
read, render. No view here tests a role: the policies in ``tipline.cases.policies`` do.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import Any

from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tipline.cases import actions, casework, categories, queue
from tipline.cases.access import ReportNotFound, evidence_for_staff, report_for_staff
from tipline.cases.models import Report
from tipline.cases.policies import NotAllowed, ReportPolicy
from tipline.cases.states import DecisionStatus, MessageAuthor, Outcome, ReportState
from tipline.console.case_forms import ClassificationForm, DecisionForm, LinkForm, NoteForm
from tipline.console.fields import (
    answered_fields,
    classification_rows,
    contact_fields,
    decision_row,
)
from tipline.console.forms import AssignForm, HotlineMessageForm, QueueFilterForm
from tipline.guidance import jurisdictions
from tipline.staff.models import StaffUser
from tipline.triage import engine


def staff_of(request: HttpRequest) -> StaffUser:
    # ConsoleAccessMiddleware lets only current, verified staff reach these views.
    user = request.user
    assert isinstance(user, StaffUser)  # noqa: S101 - guaranteed by the middleware
    return user


def not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "console/not_found.html", status=404)


def refused(request: HttpRequest, report: Report, reason: str) -> HttpResponse:
    return render(request, "console/refused.html", {"report": report, "reason": reason}, status=403)


ReportView = Callable[[HttpRequest, StaffUser, Report], HttpResponse]


def with_report(view: ReportView) -> Callable[[HttpRequest, uuid.UUID], HttpResponse]:
    """Resolve ``report_id`` through the access function; any refusal is the same 404 page."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
        user = staff_of(request)
        try:
            report = report_for_staff(user, report_id)
        except ReportNotFound:
            return not_found(request)
        return view(request, user, report)

    return wrapped


def no_store(response: HttpResponse) -> HttpResponse:
    # Decrypted content must not linger in a browser or proxy cache.
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def queue_page(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    # Always bound: no parameters at all is a valid request for the first, unfiltered page.
    form = QueueFilterForm(request.GET)
    page = None
    status = 400
    if form.is_valid():
        page = queue.queue_page(user, form.filters(), after=form.cleaned_data["after"])
        status = 200
    rows = []
    now = timezone.now()
    for row in page.rows if page else ():
        rows.append(
            {
                "row": row,
                "category": categories.get(row.category).label,
                "state": ReportState(row.state).label,
                "overdue": row.overdue(now),
            }
        )
    context = {
        "form": form,
        "rows": rows,
        "now": now,
        "next_cursor": page.next_cursor.encode() if page and page.next_cursor else "",
        "filtered": any(
            request.GET.get(name)
            for name in ("category", "state", "country", "created_from", "created_to")
        )
        or request.GET.get("assignee", "anyone") != "anyone",
        "paged": page is not None and form.cleaned_data["after"] is not None,
        "may_claim": ReportPolicy.may_claim(user),
        "deadlines": [(tier.value, categories.DEADLINES[tier]) for tier in categories.Tier],
    }
    return no_store(render(request, "console/queue.html", context, status=status))


def case_page(
    request: HttpRequest,
    report: Report,
    *,
    with_contact: bool = False,
    revealed: Collection[uuid.UUID] = (),
    message_form: HotlineMessageForm | None = None,
    forms: Mapping[str, Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the case view; ``forms`` carries a bound form with errors to show in place."""
    user = staff_of(request)
    case = casework.case_open(actor=user, report=report, with_contact=with_contact)
    forms = forms or {}
    now = timezone.now()
    tier = categories.Tier(report.tier)
    deadline = report.created_at + categories.DEADLINES[tier]
    context: dict[str, Any] = {
        "report": report,
        "case": case,
        "category": categories.get(report.category).label,
        "state": ReportState(report.state).label,
        "now": now,
        "deadline": deadline,
        "overdue": now > deadline,
        # A hand-over from the evidence locker carries its log as structured data, shown by
        # console/_evidence_log.html rather than as one more answer.
        "fields": answered_fields(
            {k: v for k, v in case.details.items() if k != "evidence_log"}, _marks(case)
        ),
        "evidence_log": case.details.get("evidence_log"),
        "has_contact": report.contact is not None and report.contact_erased_at is None,
        "contact_erased": report.contact_erased_at is not None,
        "may_see_contact": ReportPolicy.may_see_contact(user),
        "may_write": ReportPolicy.may_claim(user),
        "contact": contact_fields(case.contact),
        "revealed": set(revealed),
        "known": case.known,
        "message_form": message_form or HotlineMessageForm(),
        "may_claim": ReportPolicy.may_claim(user) and report.assigned_to_id is None,
        "assign_form": (
            AssignForm(initial={"assignee": report.assigned_to})
            if ReportPolicy.may_assign_others(user)
            else None
        ),
        # Where the report could be referred, from the reporter's chosen country (None if unsaid).
        "referral": jurisdictions.get(report.country),
        **_decision_context(user, report, case, forms),
    }
    return no_store(render(request, "console/case.html", context, status=status))


def _marks(case: casework.CaseFile) -> dict[str, list[tuple[int, int]]]:
    marks: dict[str, list[tuple[int, int]]] = {}
    for reason in case.reasons:
        if reason.segment and reason.end > reason.start:
            marks.setdefault(reason.segment, []).append((reason.start, reason.end))
    return marks


def _cluster_rows(case: casework.CaseFile) -> list[dict[str, Any]]:
    if case.cluster is None:
        return []
    return [
        {
            "id": entry.report_id,
            "created_at": entry.created_at,
            "label": categories.get(entry.category).label,
            "state": ReportState(entry.state).label,
            "this": entry.report_id == case.report.id,
        }
        for entry in case.cluster.timeline
    ]


def _decision_context(
    user: StaffUser, report: Report, case: casework.CaseFile, forms: Mapping[str, Form]
) -> dict[str, Any]:
    """What the classification, decision, notes and related-report panels need."""
    state = ReportState(report.state)
    pending = next((d for d in case.decisions if d.status == DecisionStatus.PENDING), None)
    may_decide = state == ReportState.IN_REVIEW and ReportPolicy.may_decide(user, report)
    return {
        "classification_rows": classification_rows(case.classification),
        "classification_form": forms.get("classification")
        or (ClassificationForm(initial=case.classification) if may_decide else None),
        "decision_form": forms.get("decision") or (DecisionForm() if may_decide else None),
        "note_form": forms.get("note") or NoteForm(),
        "link_form": forms.get("link") or LinkForm(),
        "may_decide": may_decide,
        "may_annotate": ReportPolicy.may_annotate(user) and not case.erased,
        "pending": pending,
        "may_review": pending is not None and ReportPolicy.may_review(user, pending.proposed_by_id),
        "may_withdraw": pending is not None
        and (pending.proposed_by_id == user.pk or ReportPolicy.may_reopen(user)),
        "may_reopen": state in (ReportState.ACTIONED, ReportState.CLOSED)
        and ReportPolicy.may_reopen(user)
        and report.content_erased_at is None,
        "may_hold": ReportPolicy.may_set_legal_hold(user),
        "outcome": Outcome(report.outcome).label if report.outcome else "",
        "cluster_rows": _cluster_rows(case),
        "reasons": [
            {**vars(reason), "description": engine.describe(reason.rule)} for reason in case.reasons
        ],
        "decision_rows": [decision_row(d) for d in case.decisions],
        "related": [
            {
                "id": link.id,
                "label": categories.get(link.category).label,
                "created_at": link.created_at,
            }
            for link in case.links
        ],
    }


@require_GET
@with_report
def case_view(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    return case_page(request, report)


@require_POST
@with_report
def case_contact(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    try:
        return case_page(request, report, with_contact=True)
    except casework.ContactWithheld:
        return refused(request, report, _("contact details stay with the hotline's caseworkers"))


@require_POST
@with_report
def case_claim(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    try:
        actions.report_claim(actor=user, report=report)
    except NotAllowed as exc:
        return refused(request, report, str(exc))
    if request.POST.get("back") == "queue":
        return HttpResponseRedirect(reverse("console:queue"))
    return HttpResponseRedirect(reverse("console:case", args=[report.id]))


@require_POST
@with_report
def case_assign(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    form = AssignForm(request.POST)
    if not form.is_valid():
        return refused(request, report, _("choose someone from the list"))
    try:
        actions.report_assign(actor=user, report=report, assignee=form.cleaned_data["assignee"])
    except NotAllowed as exc:
        return refused(request, report, str(exc))
    return HttpResponseRedirect(reverse("console:case", args=[report.id]))


@require_POST
@with_report
def case_message(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    form = HotlineMessageForm(request.POST)
    if not form.is_valid():
        return case_page(request, report, message_form=form, status=400)
    try:
        actions.message_add(
            report=report, author=MessageAuthor.HOTLINE, body=form.cleaned_data["body"], actor=user
        )
    except NotAllowed as exc:
        return refused(request, report, str(exc))
    return HttpResponseRedirect(reverse("console:case", args=[report.id]) + "#thread")


@require_GET
def file_preview(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    try:
        evidence = evidence_for_staff(staff_of(request), file_id)
        data = casework.file_preview(actor=staff_of(request), evidence=evidence)
    except (ReportNotFound, casework.NoPreview):
        return not_found(request)
    response = HttpResponse(data, content_type="image/png")
    response["Content-Disposition"] = 'inline; filename="preview.png"'
    response["X-Content-Type-Options"] = "nosniff"
    return no_store(response)


@require_POST
def file_reveal(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    user = staff_of(request)
    try:
        evidence = evidence_for_staff(user, file_id)
    except ReportNotFound:
        return not_found(request)
    revealed = casework.file_reveal(actor=user, evidence=evidence)
    return case_page(request, evidence.report, revealed={revealed})
