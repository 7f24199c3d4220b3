"""Who may read the audit log: auditors (their whole job) and administrators.

Entries name actions, people and record ids, never report content, so reading them reveals no
reporter's words; analysts and liaisons still have no need to read what their colleagues did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tipline.staff.models import Role

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

READERS = frozenset({Role.AUDITOR, Role.ADMIN})


class AuditPolicy:
    @staticmethod
    def may_read(user: StaffUser) -> bool:
        return user.is_active and user.role in READERS


class PartnerPolicy:
    """Partner settings and the webhook delivery log: administrators only (they configure
    partners; the log shows partner names, endpoints and report ids, never content)."""

    @staticmethod
    def may_read(user: StaffUser) -> bool:
        return user.is_active and user.role == Role.ADMIN
