"""Time zones: the hotline's (``settings.TIME_ZONE``, from ``TIPLINE_TIME_ZONE``) and each staff
member's own choice, which the console shows every date and time in.

Only IANA names that this machine's zone database knows are accepted, so a stored choice always
activates; an empty choice means "the hotline's".
"""

from __future__ import annotations

import functools
import zoneinfo

from django.conf import settings
from django.db import transaction

from tipline.audit.chain import record
from tipline.staff.models import StaffUser


@functools.cache
def names() -> tuple[str, ...]:
    """Every IANA zone name available here, sorted ("Africa/Abidjan" … "UTC")."""
    return tuple(sorted(n for n in zoneinfo.available_timezones() if "/" in n or n == "UTC"))


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(names())


def is_known(name: str) -> bool:
    return name in _known()


def zone_of(user: StaffUser) -> str:
    """The zone this person's console uses: their own choice, else the hotline's (also when a
    stored choice is no longer in this machine's zone database, rather than failing every page)."""
    if user.time_zone and is_known(user.time_zone):
        return user.time_zone
    return str(settings.TIME_ZONE)


class UnknownTimeZone(ValueError):
    pass


def staff_set_time_zone(*, actor: StaffUser, time_zone: str) -> StaffUser:
    """Set the acting person's own time zone ("" for the hotline's); audited like any change."""
    if time_zone and not is_known(time_zone):
        raise UnknownTimeZone(time_zone)
    with transaction.atomic():
        user = StaffUser.objects.select_for_update().get(pk=actor.pk)
        previous = user.time_zone
        if previous == time_zone:
            return user
        user.time_zone = time_zone
        user.save(update_fields=["time_zone"])
        record(
            actor=user.username,
            action="staff.set_time_zone",
            target_type="staff",
            target_id=user.username,
            details={"from": previous, "to": time_zone},
        )
    return user
