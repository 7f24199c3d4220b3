"""When an incident happened, read from what the victim types, in the locker's time zone.

People write "14 March 2024 at 11pm", "yesterday 9pm", "hier à 21h", "कल रात 9 बजे" or
"kal raat 9 baje", not ISO dates. `dateparser` reads most of it (it is pure Python with
its language data in the package: nothing is downloaded at run time); a few rewrites before it
cover what it misses: French "21h30", Hindi and romanised Hindi times of day ("रात 9 बजे" is
21:00) and "कल"/"kal", which means both yesterday and tomorrow: an incident log records the past,
so it is read as yesterday.

Nothing read here is stored silently: the incident form shows the reading back (weekday, date,
time and zone) and asks once more before saving (see `forms.IncidentForm`). Times are wall-clock
times in the locker's zone (the victim's setting, else the server's TIME_ZONE), stored with
their offset, and the PDF prints them in that zone with its name.
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings

MAX_CHARS = 100
CANONICAL = "%Y-%m-%d %H:%M"

# French "21h", "21 h 30", "21h30" (dateparser reads "21h" alone as a duration).
_FRENCH_HOURS = re.compile(r"\b(\d{1,2})\s?h\s?(\d{2})?\b", re.IGNORECASE)
# "<day word> [<part of day>] <hour>[:<minutes>] [o'clock]" in Hindi, Devanagari or romanised.
_DAY_WORDS = {
    "कल": "yesterday", "kal": "yesterday", "परसों": "2 days ago", "parson": "2 days ago",
    "parso": "2 days ago", "आज": "today", "aaj": "today",
}  # fmt: skip
_PARTS = {
    # part of day -> how a 12-hour clock hour is read in it
    "सुबह": "am", "subah": "am", "subha": "am", "दोपहर": "pm", "dopahar": "pm",
    "dopehar": "pm", "शाम": "pm", "shaam": "pm", "sham": "pm", "रात": "night", "raat": "night",
    "rat": "night", "matin": "am", "soir": "pm", "après-midi": "pm", "apres-midi": "pm",
}  # fmt: skip
_OCLOCK = r"(?:बजे|baje|baj[e]?)"
_PART_TIME = re.compile(
    r"(?P<part>" + "|".join(map(re.escape, sorted(_PARTS, key=len, reverse=True))) + r")\s+"
    r"(?:à\s+)?(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*" + _OCLOCK + r"?",
    re.IGNORECASE,
)
_BARE_OCLOCK = re.compile(r"\b(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*" + _OCLOCK, re.I)
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?")
# Whether the text names a time of day at all (else the reading is the day at 00:00).
_HAS_TIME = re.compile(
    r"\d\s*(?::|h\b|h\d|am\b|pm\b|a\.\s?m|p\.\s?m|बजे|baje)|\b(?:noon|midi|midnight|minuit)\b",
    re.IGNORECASE,
)


class NotADate(ValueError):
    """The text could not be read as a moment."""


class InTheFuture(ValueError):
    """The text reads as a moment after now."""


def zone_names() -> list[str]:
    """The IANA zones offered in the locker's settings: "Area/City" names, sorted."""
    areas = [
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(("Etc/", "posix/", "right/", "SystemV/"))
    ]
    return [*sorted(areas), "UTC"]


def default_zone() -> str:
    """The hotline's zone (TIPLINE_LOCKER_TIME_ZONE, else TIME_ZONE): the same for every
    browser, so it gives away nothing about the victim and does not change with the phone they
    happen to use."""
    name = str(getattr(settings, "TIPLINE_LOCKER_TIME_ZONE", "") or settings.TIME_ZONE)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or default_zone())
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default_zone())


def _part_time(found: re.Match[str]) -> str:
    part = _PARTS[found["part"].casefold()]
    hour, minute = int(found["hour"]), found["minute"] or "00"
    if hour > 12:
        return f"{hour}:{minute}"
    if part == "night":  # 9 at night is 21:00; 2 at night is 02:00
        part = "pm" if 6 <= hour <= 11 else "am"
    return f"{hour}:{minute} {part}"


def _rewrite(text: str) -> str:
    text = _FRENCH_HOURS.sub(lambda m: f"{m[1]}:{m[2] or '00'}", text)
    text = _PART_TIME.sub(_part_time, text)
    text = _BARE_OCLOCK.sub(lambda m: f"{m['hour']}:{m['minute'] or '00'}", text)
    return _WORD.sub(lambda m: _DAY_WORDS.get(m[0].casefold(), m[0]), text)


def read(text: str, *, zone: ZoneInfo, now: datetime, language: str) -> datetime:
    """The moment `text` names, aware in `zone`; NotADate or InTheFuture otherwise."""
    import dateparser  # type: ignore[import-untyped]  # on first use: loads language data

    cleaned = " ".join(text.split())[:MAX_CHARS]
    if not cleaned:
        raise NotADate(text)
    base = now.astimezone(zone).replace(tzinfo=None)
    languages = list(dict.fromkeys([language.split("-")[0], "en"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dateparser's own deprecation notices
        found = dateparser.parse(
            _rewrite(cleaned),
            languages=languages,
            settings={
                "TIMEZONE": zone.key,
                "TO_TIMEZONE": zone.key,
                "RETURN_AS_TIMEZONE_AWARE": False,
                "RELATIVE_BASE": base,
                "PREFER_DATES_FROM": "past",
                "DATE_ORDER": "DMY",
            },
        )
    if not isinstance(found, datetime):
        raise NotADate(text)
    if not _HAS_TIME.search(_rewrite(cleaned)):
        found = found.replace(hour=0, minute=0, second=0)
    when = found.replace(second=0, microsecond=0, tzinfo=zone)
    if when > now + timedelta(minutes=5):
        raise InTheFuture(text)
    return when


def clock(when: datetime, zone: ZoneInfo) -> str:
    """"23:00 GMT (Europe/London)": the time of day and the zone."""
    return shown(when, zone).split(" ", 1)[1]


def shown(when: datetime, zone: ZoneInfo) -> str:
    """"2024-03-14 23:00 GMT (Europe/London)": the wall-clock time and the zone it is in."""
    local = when.astimezone(zone)
    name = local.tzname() or ""
    if name == zone.key or not name:
        return f"{local.strftime(CANONICAL)} {zone.key}"
    return f"{local.strftime(CANONICAL)} {name} ({zone.key})"
