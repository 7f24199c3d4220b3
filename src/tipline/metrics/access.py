"""Who sees which figures. Figures name no reporter and hold no report content, but workload
names staff and volumes by category describe the hotline's work, so:

* supervisors, administrators and auditors see every figure;
* analysts see their own queue's figures (the reports assigned to them);
* liaisons see none (their view of Tipline is the reports referred to their agency);
* the transparency report is produced, and reporters' feedback comments read, by supervisors
  and administrators;
* an alert's reports are reached only through ``tipline.cases.access``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from tipline.staff.models import Role

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

ALL_FIGURES = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR})
PUBLISHERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


class MetricsPolicy:
    @staticmethod
    def scope(user: StaffUser) -> Literal["all", "own"] | None:
        if not user.is_active:
            return None
        if user.role in ALL_FIGURES:
            return "all"
        if user.role == Role.ANALYST:
            return "own"
        return None

    @staticmethod
    def may_publish(user: StaffUser) -> bool:
        return user.is_active and user.role in PUBLISHERS

    @staticmethod
    def may_read_comments(user: StaffUser) -> bool:
        """Reporters' free-text feedback is their own words: supervisors and administrators."""
        return user.is_active and user.role in PUBLISHERS
