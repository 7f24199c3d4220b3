"""Small display helpers for console templates: how long a report has waited, and ``when``, the
one way the console writes a date and time (ISO order, 24-hour clock, the time zone named)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tipline import countries

register = template.Library()


def format_waited(delta: timedelta) -> str:
    """ "under 1 min", "45 min", "2 h 10 min", "3 d 4 h": precise enough to act on, short."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 1:
        return _("under 1 min")
    hours, mins = divmod(minutes, 60)
    if hours < 1:
        return _("%(m)d min") % {"m": mins}
    days, hours = divmod(hours, 24)
    if days < 1:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


@register.filter
def waited_since(created_at: datetime, now: datetime) -> str:
    return format_waited(now - created_at)


@register.filter
def time_left(deadline: datetime, now: datetime) -> str:
    """How long until the deadline, or how long ago it passed."""
    if deadline >= now:
        return _("%(t)s left") % {"t": format_waited(deadline - now)}
    return _("%(t)s overdue") % {"t": format_waited(now - deadline)}


@register.filter
def timedelta_words(span: timedelta) -> str:
    """A deadline span in words: "1 hour", "24 hours", "7 days"."""
    if span % timedelta(days=1) == timedelta(0) and span >= timedelta(days=2):
        days = span.days
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    hours = int(span.total_seconds() // 3600)
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


@register.filter
def country_name(code: str) -> str:
    """A report's country code as a name in the page's language ("" stays "")."""
    return countries.name(code) if code else ""


@register.filter
def compact_json(value: object) -> str:
    """Audit details as JSON (what the chain seals), not as a Python repr."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


@register.filter
def get_item(mapping: Mapping[Any, Any], key: object) -> Any:
    """``mapping[key]`` in a template (None when absent), e.g. a file's known-material matches."""
    return mapping.get(key) if mapping else None


def when_text(value: datetime, part: str = "") -> str:
    """ "2026-12-02 14:05 CET" in the active zone (the staff member's, or the hotline's);
    ``part`` "date" gives "2026-12-02"."""
    local = timezone.localtime(value)
    if part == "date":
        return local.strftime("%Y-%m-%d")
    return f"{local.strftime('%Y-%m-%d %H:%M')} {local.tzname() or ''}".strip()


@register.filter
def when(value: datetime | None, part: str = "") -> SafeString | str:
    """A ``<time>`` element: the ISO instant for machines, ``when_text`` for people, and the
    zone's full name and offset on hover. The only date format console templates use."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    offset = local.strftime("%z")
    return format_html(
        '<time datetime="{}" title="{} (UTC{}:{})">{}</time>',
        value.isoformat(),
        timezone.get_current_timezone_name(),
        offset[:3],
        offset[3:],
        when_text(value, part),
    )


@register.filter
def ago(moment: datetime, now: datetime) -> str:
    """ "10 min ago" (for a tier that rose, an entry that came in)."""
    return _("%(t)s ago") % {"t": format_waited(now - moment)}
