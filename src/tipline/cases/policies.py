"""Who may see and work which reports: one policy per model, and nothing else decides it.

Access functions (``tipline.cases.access``) and the queue ask these policies; views never test a
role themselves. A policy answers with a queryset filter, so "may this person open report X" and
"which reports may this person list" can never disagree.

* Analysts, supervisors and administrators may open any report and work on it.
* Auditors read the audit log and metrics; they never see report content, so no report is visible
  to them (not even in the queue: its rows say what kind of harm a report describes).
* A law-enforcement liaison sees only reports referred to their agency. Referrals arrive with the
  outputs issue; until then the rule matches nothing, so a liaison sees no report at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from tipline.cases.models import EvidenceFile, Report
from tipline.staff.models import Role

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

CASEWORK_ROLES = frozenset({Role.ANALYST, Role.SUPERVISOR, Role.ADMIN})
ASSIGNING_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


def _referred_to(agency: str) -> Q:
    # No referral model exists yet: a liaison's set of reports is empty. The outputs issue
    # replaces this with a filter on referrals to ``agency`` (never on anything else).
    return Q(pk__in=[])


class ReportPolicy:
    @staticmethod
    def visible(user: StaffUser) -> QuerySet[Report]:
        reports = Report.objects.all()
        if not user.is_active:
            return reports.none()
        if user.role in CASEWORK_ROLES:
            return reports
        if user.role == Role.LIAISON and user.agency:
            return reports.filter(_referred_to(user.agency))
        return reports.none()

    @staticmethod
    def may_claim(user: StaffUser) -> bool:
        return user.is_active and user.role in CASEWORK_ROLES

    @staticmethod
    def may_assign_others(user: StaffUser) -> bool:
        return user.is_active and user.role in ASSIGNING_ROLES

    @staticmethod
    def may_be_assigned(user: StaffUser) -> bool:
        return user.is_active and user.role in CASEWORK_ROLES


class EvidenceFilePolicy:
    """A file is visible exactly when its report is."""

    @staticmethod
    def visible(user: StaffUser) -> QuerySet[EvidenceFile]:
        return EvidenceFile.objects.filter(report__in=ReportPolicy.visible(user).values("pk"))
