"""Who may see and work which reports: one policy per model, and nothing else decides it.

Access functions (``tipline.cases.access``) and the queue ask these policies; views never test a
role themselves. A policy answers with a queryset filter, so "may this person open report X" and
"which reports may this person list" can never disagree.

* Analysts, supervisors and administrators may open any report and work on it.
* Auditors read the audit log and metrics; they never see report content, so no report is visible
  to them (not even in the queue: its rows say what kind of harm a report describes).
* A law-enforcement liaison sees only reports referred to their agency (a confirmed referral
  naming exactly the agency on their account) and may not work on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from tipline.cases.models import EvidenceFile, Referral, Report
from tipline.staff.models import Role

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

CASEWORK_ROLES = frozenset({Role.ANALYST, Role.SUPERVISOR, Role.ADMIN})
ASSIGNING_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


class NotAllowed(Exception):
    """The acting staff member may see the report but may not make this change to it."""


def _referred_to(agency: str) -> Q:
    return Q(pk__in=Referral.objects.filter(agency=agency).values("report_id"))


class ReportPolicy:
    @staticmethod
    def visible(user: StaffUser) -> QuerySet[Report]:
        reports = Report.objects.all()
        if not user.is_active:
            return reports.none()
        if ReportPolicy.sees_every_report(user):
            return reports
        if user.role == Role.LIAISON and user.agency:
            return reports.filter(_referred_to(user.agency))
        return reports.none()

    @staticmethod
    def sees_every_report(user: StaffUser) -> bool:
        """``visible`` is every report (lets a read skip the "visible" subquery)."""
        return user.is_active and user.role in CASEWORK_ROLES

    @staticmethod
    def may_claim(user: StaffUser) -> bool:
        return user.is_active and user.role in CASEWORK_ROLES

    @staticmethod
    def may_assign_others(user: StaffUser) -> bool:
        return user.is_active and user.role in ASSIGNING_ROLES

    @staticmethod
    def may_be_assigned(user: StaffUser) -> bool:
        return user.is_active and user.role in CASEWORK_ROLES

    @staticmethod
    def may_decide(user: StaffUser, report: Report) -> bool:
        """Classify and propose an outcome: the person working the report, or a supervisor."""
        if not (user.is_active and user.role in CASEWORK_ROLES):
            return False
        return report.assigned_to_id == user.pk or user.role in ASSIGNING_ROLES

    @staticmethod
    def may_review(user: StaffUser, proposed_by_id: int) -> bool:
        """Confirm or send back a decision: any caseworker except the one who proposed it."""
        return user.is_active and user.role in CASEWORK_ROLES and user.pk != proposed_by_id

    @staticmethod
    def may_annotate(user: StaffUser) -> bool:
        """Add notes and links to related reports."""
        return user.is_active and user.role in CASEWORK_ROLES

    @staticmethod
    def may_see_contact(user: StaffUser) -> bool:
        """The reporter agreed to be contacted by the hotline, not by anyone it refers to."""
        return user.is_active and user.role in CASEWORK_ROLES

    @staticmethod
    def may_reopen(user: StaffUser) -> bool:
        return user.is_active and user.role in ASSIGNING_ROLES

    @staticmethod
    def may_list(user: StaffUser) -> bool:
        """Whether the queue means anything to this person (a role that can see some report)."""
        return user.is_active and (
            user.role in CASEWORK_ROLES or (user.role == Role.LIAISON and bool(user.agency))
        )

    @staticmethod
    def may_read_inbox(user: StaffUser) -> bool:
        """The inbox of reporter activity is the caseworkers' (liaisons see referred reports
        as they stood when referred; auditors see no report at all)."""
        return user.is_active and user.role in CASEWORK_ROLES

    @staticmethod
    def may_set_legal_hold(user: StaffUser) -> bool:
        """Suspend or resume retention for a report (tipline.cases.retention)."""
        return user.is_active and user.role in ASSIGNING_ROLES


class EvidenceFilePolicy:
    """A file is visible exactly when its report is."""

    @staticmethod
    def visible(user: StaffUser) -> QuerySet[EvidenceFile]:
        return EvidenceFile.objects.filter(report__in=ReportPolicy.visible(user).values("pk"))

    @staticmethod
    def may_download_original(user: StaffUser) -> bool:
        """The original bytes leave the console only with those who may export evidence.

        Analysts read sanitised renditions; a supervisor or administrator may take the original
        (for a referral made outside Tipline, a court), audited. Liaisons get originals inside
        the signed referral package instead; auditors see no report content at all.
        """
        return user.is_active and user.role in ASSIGNING_ROLES
