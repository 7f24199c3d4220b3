"""Reads about staff accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tipline.staff.models import StaffUser


@dataclass(frozen=True)
class StaffRow:
    username: str
    role: str
    agency: str
    active: bool
    totp_confirmed: bool
    locked_until: datetime | None


def has_confirmed_device(user: StaffUser) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def staff_list() -> list[StaffRow]:
    now = timezone.now()
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    rows = StaffUser.objects.annotate(totp=Exists(confirmed)).order_by("username")
    return [
        StaffRow(
            username=user.username,
            role=user.role,
            agency=user.agency,
            active=user.is_active,
            totp_confirmed=bool(user.totp),
            locked_until=user.locked_until
            if user.locked_until is not None and user.locked_until > now
            else None,
        )
        for user in rows
    ]
