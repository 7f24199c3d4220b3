"""Template context for console pages: which navigation links the signed-in person may use, and
how many reporter messages wait unread in their inbox."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tipline.cases import inbox, triage_model
from tipline.cases.policies import ReportPolicy
from tipline.metrics.access import MetricsPolicy
from tipline.outputs.policies import AgencyPolicy
from tipline.staff.models import StaffUser
from tipline.staff.policies import AuditPolicy, PartnerPolicy


def console(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, StaffUser) or not request.path.startswith("/console/"):
        return {}
    return {
        "staff_signed_in": True,
        "may_read_audit": AuditPolicy.may_read(user),
        "may_list_reports": ReportPolicy.may_list(user),
        "may_read_inbox": ReportPolicy.may_read_inbox(user),
        # Lazy: counted only when a page's navigation shows it (one indexed COUNT).
        "inbox_unread": SimpleLazyObject(lambda: inbox.unread_count(user)),
        "may_see_metrics": MetricsPolicy.scope(user) is not None,
        "may_read_partners": PartnerPolicy.may_read(user),
        "may_manage_agencies": AgencyPolicy.may_manage(user),
        "may_switch_model": user is not None and triage_model.may_switch(user),
        # The workbench bar ("next case", keyboard shortcuts) for people who work on reports.
        "may_take_next": ReportPolicy.may_claim(user),
    }
