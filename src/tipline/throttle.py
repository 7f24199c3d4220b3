"""Site-wide counters of failed guesses per minute (receipts, locker passphrases).

Tipline keeps no per-client state (no address is ever stored), so a brute-force limit can only
be global: past the limit every attempt in that minute is refused, right or wrong, so the
throttle is not an oracle either. Each use has its own table so one kind of guessing cannot
lock out the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

KEEP = timedelta(minutes=10)


def _window() -> datetime:
    return timezone.now().replace(second=0, microsecond=0)


class MinuteThrottle(models.Model):
    window_start = models.DateTimeField(unique=True)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.failures} failures from {self.window_start:%H:%M}"

    @classmethod
    def throttled(cls, limit: int) -> bool:
        row = cls._default_manager.filter(window_start=_window()).first()
        return row is not None and row.failures >= limit

    @classmethod
    def record_failure(cls) -> None:
        window = _window()
        manager = cls._default_manager
        with transaction.atomic():
            if not manager.filter(window_start=window).update(failures=F("failures") + 1):
                manager.get_or_create(window_start=window, defaults={"failures": 1})
            manager.filter(window_start__lt=window - KEEP).delete()
