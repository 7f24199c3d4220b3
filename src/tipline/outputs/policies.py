"""Who may manage agencies and who may take a referral package out of the console.

* Agencies (names, contacts, age keys) are managed by administrators: an agency's key decides
  who can read what leaves, so it is not an analyst's or a supervisor's setting.
* In the console a package goes only to a liaison of the agency the report was referred to.
  Caseworkers export from the command line (``tipline referral package``), where whoever runs
  it has the server's shell already; the console is where the agency itself collects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tipline.cases.models import Referral, Report
from tipline.cases.policies import ReportPolicy
from tipline.staff.models import Role

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser


class AgencyPolicy:
    @staticmethod
    def may_manage(user: StaffUser) -> bool:
        return user.is_active and user.role == Role.ADMIN


class ReferralEmailPolicy:
    @staticmethod
    def may_send(user: StaffUser) -> bool:
        """Caseworkers send a confirmed referral's package to an agency that takes e-mail."""
        return ReportPolicy.may_claim(user)


class ReferralApiPolicy:
    @staticmethod
    def may_submit(user: StaffUser) -> bool:
        """Caseworkers submit a confirmed referral to an agency reached by the CyberTipline API."""
        return ReportPolicy.may_claim(user)


class ReferralPackagePolicy:
    @staticmethod
    def referral_for(user: StaffUser, report: Report) -> Referral | None:
        """The referral of ``report`` whose package ``user`` may download in the console."""
        if not (user.is_active and user.role == Role.LIAISON and user.agency):
            return None
        return Referral.objects.filter(report=report, agency=user.agency).first()
