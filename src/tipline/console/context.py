"""Template context for console pages: which navigation links the signed-in person may use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tipline.metrics.access import MetricsPolicy
from tipline.staff.models import StaffUser
from tipline.staff.policies import AuditPolicy


def console(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, StaffUser) or not request.path.startswith("/console/"):
        return {}
    return {
        "may_read_audit": AuditPolicy.may_read(user),
        "may_see_metrics": MetricsPolicy.scope(user) is not None,
    }
