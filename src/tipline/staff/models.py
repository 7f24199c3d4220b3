"""Staff accounts: the people who work in the console (trust domain 2).

Reporters never have accounts. Staff accounts carry a role, the lockout counters (per account,
because no client address is kept to count per client) and a session epoch: bumping it ends every
session the person has open ("sign out everywhere").
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ANALYST = "analyst", _("Analyst")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")
    LIAISON = "liaison", _("Law-enforcement liaison")
    AUDITOR = "auditor", _("Auditor")


class StaffUser(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANALYST)
    # The agency a liaison works for; required for liaisons, blank for everyone else.
    agency = models.CharField(max_length=200, blank=True, default="")
    # Consecutive failed sign-ins (wrong password or wrong code) since the last success or lock.
    failed_sign_ins = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Locks since the last successful sign-in: each further lock lasts twice as long.
    lockouts = models.PositiveIntegerField(default=0)
    session_epoch = models.PositiveIntegerField(default=0)
    # The IANA time zone the console shows this person's times in ("" = the hotline's,
    # settings.TIME_ZONE from TIPLINE_TIME_ZONE).
    time_zone = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = "staff member"
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="liaison") | ~Q(agency=""), name="staff_liaison_has_agency"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["analyst", "supervisor", "admin", "liaison", "auditor"]),
                name="staff_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.username
