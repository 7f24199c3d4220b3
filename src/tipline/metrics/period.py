"""Periods and filters as the dashboard, the export and the transparency report accept them.

A period is whole UTC days, ``start`` to ``end`` inclusive. Bad input gets a sentence, never a
guess: a reversed period, a period that starts after today, an unknown filter or value.
A period that ends after today is cut at today and says so (``clipped``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from tipline import countries
from tipline.cases import categories
from tipline.triage import tiers

MAX_DAYS = 3 * 366
CHANNELS = ("form", "api", "partner", "cybertipline", "forwarded", "handover")
FILTERS = ("category", "channel", "country", "tier")


class BadPeriod(ValueError):
    """The period or a filter cannot be used; the message says why, for people."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    clipped: bool = False

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def today() -> date:
    return timezone.now().astimezone(UTC).date()


def make(start: date, end: date) -> Period:
    if end < start:
        raise BadPeriod(_("The period ends before it starts."))
    now = today()
    if start > now:
        raise BadPeriod(_("The period starts in the future."))
    if (end - start).days + 1 > MAX_DAYS:
        raise BadPeriod(_("A period is at most three years long."))
    return Period(start, min(end, now), clipped=end > now)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadPeriod(_("Dates are written YYYY-MM-DD.")) from None


_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_named(text: str) -> Period:
    """``2026-Q4``, ``2026-11`` or ``2026``."""
    text = text.strip().upper()
    if m := _QUARTER.match(text):
        year, q = int(m[1]), int(m[2])
        start = date(year, 3 * q - 2, 1)
        end = (date(year + (q == 4), (3 * q) % 12 + 1, 1)) - timedelta(days=1)
        return make(start, end)
    if (m := _MONTH.match(text)) and 1 <= int(m[2]) <= 12:
        year, month = int(m[1]), int(m[2])
        start = date(year, month, 1)
        end = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
        return make(start, end)
    if m := _YEAR.match(text):
        return make(date(int(m[1]), 1, 1), date(int(m[1]), 12, 31))
    raise BadPeriod(_("Name a period as 2026-Q4, 2026-11 or 2026."))


def last_days(n: int) -> Period:
    end = today()
    return make(end - timedelta(days=n - 1), end)


@dataclass(frozen=True)
class Filters:
    category: str = ""
    channel: str = ""
    country: str = ""
    tier: str = ""

    def as_query(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in FILTERS if getattr(self, k)}


def make_filters(given: dict[str, str]) -> Filters:
    unknown = sorted(set(given) - set(FILTERS))
    if unknown:
        raise BadPeriod(_("Unknown filter: %(name)s.") % {"name": unknown[0][:40]})
    values = {k: (given.get(k) or "").strip() for k in FILTERS}
    if values["category"] and values["category"] not in {c.code for c in categories.CATEGORIES}:
        raise BadPeriod(_("Unknown category."))
    if values["channel"] and values["channel"] not in CHANNELS:
        raise BadPeriod(_("Unknown channel."))
    values["country"] = values["country"].upper()
    if values["country"] and values["country"] not in {c for c, _n in countries.by_name()}:
        raise BadPeriod(_("Unknown country code."))
    if values["tier"] and values["tier"] not in {t.value for t in tiers.Tier}:
        raise BadPeriod(_("Unknown tier."))
    return Filters(
        category=values["category"],
        channel=values["channel"],
        country=values["country"],
        tier=values["tier"],
    )
