"""The audit log page (auditors and administrators), and one report's trail from its case view.

Reading either is itself recorded. Entries are shown in words, the several entries one case
opening makes as one row, and the sealed JSON behind a disclosure (``console/audit_words.py``).
"""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from tipline.audit import chain
from tipline.audit.selectors import AuditFilters, AuditPage, audit_page
from tipline.cases.models import Report
from tipline.console.audit_words import grouped
from tipline.console.shared import no_store, not_found, staff_of, with_report
from tipline.staff.models import StaffUser
from tipline.staff.policies import AuditPolicy


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Who"), required=False, max_length=150)
    action = forms.RegexField(
        label=_("Action"),
        help_text=_("For example report.view, or report. for every report action."),
        required=False,
        max_length=64,
        regex=r"^[a-z_.]*$",
        error_messages={"invalid": _("Actions are lower-case words joined by dots.")},
    )
    target_id = forms.CharField(label=_("Record id"), required=False, max_length=64)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class TrailPageForm(forms.Form):
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    if not AuditPolicy.may_read(user):
        return not_found(request)
    form = AuditFilterForm(request.GET)
    page, status = None, 400
    if form.is_valid():
        data = form.cleaned_data
        filters = AuditFilters(
            actor=data["actor"].strip(),
            action=data["action"],
            target_id=data["target_id"].strip(),
        )
        page = _read(user, filters, data["before"])
        status = 200
    context = {
        "form": form,
        "page": page,
        "groups": grouped(page.entries) if page else [],
        "head": chain.head(),
        "filtered": any(request.GET.get(n) for n in ("actor", "action", "target_id")),
    }
    return no_store(render(request, "console/audit.html", context, status=status))


@require_GET
@with_report
def case_audit(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    """One report's trail: for those who may both open the report and read the audit log."""
    if not AuditPolicy.may_read(user):
        return not_found(request)
    form = TrailPageForm(request.GET)
    if not form.is_valid():
        return not_found(request)
    page = _read(user, AuditFilters(report=str(report.id)), form.cleaned_data["before"])
    context = {"report": report, "page": page, "groups": grouped(page.entries)}
    return no_store(render(request, "console/case_audit.html", context))


def _read(user: StaffUser, filters: AuditFilters, before: int | None) -> AuditPage:
    with transaction.atomic():
        page = audit_page(filters, before=before)
        chain.record(
            actor=user.username,
            action="audit.read",
            details={k: v for k, v in vars(filters).items() if v},
        )
    return page
