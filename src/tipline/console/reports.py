"""Console views for reports: the queue, the case view and the work done from them.

Adapters only: parse the request, get the report or file through ``tipline.cases.access`` (which
answers "not found" alike for missing, forbidden and malformed), call an action or an audited
read, render. No view here tests a role: the policies in ``tipline.cases.policies`` do.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tipline.cases import actions, casework, categories, inbox, queue
from tipline.cases.models import Report
from tipline.cases.policies import NotAllowed, ReportPolicy
from tipline.cases.states import MessageAuthor, ReportState
from tipline.console.case_forms import ReplyTemplateForm
from tipline.console.case_page import case_page
from tipline.console.forms import AssignForm, HotlineMessageForm, QueueFilterForm
from tipline.console.shared import no_store, not_found, refused, staff_of, with_report
from tipline.staff.models import StaffUser
from tipline.triage import tiers


def _tabs(user: StaffUser, current: str) -> list[dict[str, object]]:
    """The queue's views; caseworkers get all of them, a liaison only the list itself."""
    labels = {
        queue.View.ALL: _("Open"),
        queue.View.MINE: _("Mine"),
        queue.View.MY_REVIEW: _("Awaiting my second review"),
        queue.View.OVERDUE: _("Overdue"),
        queue.View.NEW_INFORMATION: _("New information"),
    }
    views = queue.VIEWS if ReportPolicy.may_read_inbox(user) else (queue.View.ALL,)
    base = reverse("console:queue")
    return [
        {"label": labels[v], "url": f"{base}?view={v}" if v else base, "current": v == current}
        for v in views
    ]


@require_GET
def queue_page(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    if not ReportPolicy.may_list(user):
        # An auditor sees no report, so no queue (not even an empty one): their work is the log.
        return not_found(request)
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
                "open": row.state in queue.OPEN_STATES,
            }
        )
    view = form.cleaned_data.get("view", "") if form.is_valid() else ""
    context = {
        "form": form,
        "view": view,
        "tabs": _tabs(user, view),
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
        "deadlines": [(tier.value, tiers.DEADLINES[tier]) for tier in tiers.Tier],
    }
    return no_store(render(request, "console/queue.html", context, status=status))


@require_GET
@with_report
def case_view(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    # The page shows the whole thread: what the reporter has added until now is read by this
    # person (marked first, so this page's own inbox count already leaves it out).
    inbox.inbox_mark_read(actor=user, report=report)
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
    if "use_template" in request.POST:
        return _use_template(request, report)
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


def _use_template(request: HttpRequest, report: Report) -> HttpResponse:
    """Without JavaScript: the page again, the template's text in the message box to edit.
    Nothing is sent. Words already typed are kept, with the template after them."""
    chooser = ReplyTemplateForm(request.POST, category=report.category)
    typed = request.POST.get("body", "")
    reply = chooser.reply() if chooser.is_valid() else None
    if reply is None:
        if chooser.is_valid():  # valid codes, but no such template in that language
            chooser.add_error("template", _("This template is not available in that language."))
        form = HotlineMessageForm(initial={"body": typed})
        return case_page(request, report, message_form=form, forms={"reply": chooser}, status=400)
    text = f"{typed.rstrip()}\n\n{reply.body}" if typed.strip() else reply.body
    form = HotlineMessageForm(initial={"body": text})
    return case_page(request, report, message_form=form, forms={"reply": chooser})
