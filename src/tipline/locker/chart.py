"""A server-side SVG bar chart of the locker's counts, with the escalation markers on it.

Drawn here rather than in a browser because the locker must work with JavaScript off and the PDF
must not fetch anything: the SVG is a string put inline into the page and the PDF. Every piece of
text in it (sender names, dates, reasons) goes through `_text`, which escapes markup and drops
characters XML does not allow, so a sender called `<script>` or `]]>` is only ever text.

Accessible: role="img", a <title> and a <desc> that says in words what the bars show (totals,
the busiest period, each marker), so a screen reader, pdftotext and a court clerk get the same
facts as someone looking at the bars. Colours are fixed and pass WCAG AA on white: bars #1f4e79
(9.3:1), markers #a4001d (8.1:1), text #1a1a1a.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from django.utils.safestring import SafeString, mark_safe

from tipline.locker.parsers.i18n import _ as gettext
from tipline.locker.pattern import Marker, Pattern, week_label

Period = Literal["day", "week", "month"]
# Daily bars up to about three months, weekly up to about three years, then monthly, so that a
# bar is never thinner than about 4 px in the 720 px wide chart.
MAX_DAYS = 92
MAX_WEEKS = 160
WIDTH = 720
HEIGHT = 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 12, 34, 58
BAR = "#1f4e79"
MARK = "#a4001d"
INK = "#1a1a1a"
GRID = "#c8c8c8"
_LETTERS = {"frequency": "R", "threat": "T", "location": "L", "presence": "P", "family": "F"}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ID = re.compile(r"[^a-z0-9-]")


@dataclass(frozen=True, slots=True)
class Bar:
    start: date
    label: str
    count: int


def bars(per_day: Sequence[tuple[date, int]]) -> tuple[Period, list[Bar]]:
    """Per-day counts regrouped by the period that keeps the chart readable."""
    if len(per_day) <= MAX_DAYS:
        return "day", [Bar(d, d.isoformat(), c) for d, c in per_day]
    weeks: dict[date, int] = {}
    for day, count in per_day:
        monday = day - timedelta(days=day.weekday())
        weeks[monday] = weeks.get(monday, 0) + count
    if len(weeks) <= MAX_WEEKS:
        return "week", [Bar(m, week_label(m), c) for m, c in sorted(weeks.items())]
    months: dict[date, int] = {}
    for day, count in per_day:
        first = day.replace(day=1)
        months[first] = months.get(first, 0) + count
    return "month", [Bar(m, m.strftime("%Y-%m"), c) for m, c in sorted(months.items())]


def chart(pattern: Pattern, *, title: str, chart_id: str = "locker-chart") -> SafeString:
    period, found = bars(pattern.per_day)
    return render(found, period=period, markers=pattern.markers, title=title, chart_id=chart_id)


def render(
    found: Sequence[Bar],
    *,
    period: Period,
    markers: Sequence[Marker],
    title: str,
    chart_id: str = "locker-chart",
) -> SafeString:
    ident = _ID.sub("", chart_id.lower()) or "chart"
    summary = describe(found, period=period, markers=markers)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="DejaVu Sans, sans-serif" class="locker-chart">'
        f'<title id="{ident}-title">{_text(title)}</title>'
        f'<desc id="{ident}-desc">{_text(summary)}</desc>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
    )
    if not found:
        body = (
            f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle" fill="{INK}" '
            f'font-size="14">{_text(gettext("No dated items yet."))}</text>'
        )
        return mark_safe(head + body + "</svg>")  # noqa: S308 - every text above is escaped
    parts = [head]
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    top = max(b.count for b in found)
    step = _step(top)
    ceiling = max(step, -(-top // step) * step)
    base = _TOP + plot_h
    for tick in range(0, ceiling + 1, step):
        y = base - plot_h * tick / ceiling
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{INK}">{tick}</text>'
        )
    slot = plot_w / len(found)
    gap = slot * 0.15 if slot > 4 else 0
    for index, bar in enumerate(found):
        height = plot_h * bar.count / ceiling
        x = _LEFT + index * slot + gap / 2
        parts.append(
            f'<rect x="{x:.2f}" y="{base - height:.2f}" width="{slot - gap:.2f}" '
            f'height="{height:.2f}" fill="{BAR}"><title>{_text(bar.label)}: {bar.count}</title>'
            f"</rect>"
        )
    label_every = max(1, -(-len(found) // 8))
    for index in range(0, len(found), label_every):
        x = _LEFT + (index + 0.5) * slot
        parts.append(
            f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle" font-size="10" '
            f'fill="{INK}">{_text(found[index].label)}</text>'
        )
    parts.append(
        f'<line x1="{_LEFT}" y1="{base}" x2="{WIDTH - _RIGHT}" y2="{base}" stroke="{INK}"/>'
    )
    starts = [b.start for b in found]
    stacked: dict[int, int] = {}
    for marker in markers:
        at = _bar_index(starts, marker.day)
        if at is None:
            continue
        x = _LEFT + (at + 0.5) * slot
        level = stacked.get(at, 0)
        stacked[at] = level + 1
        y = _TOP - 8 - 13 * level if level < 2 else _TOP - 8
        parts.append(
            f'<line x1="{x:.1f}" y1="{_TOP - 4}" x2="{x:.1f}" y2="{base}" stroke="{MARK}" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{x:.1f}" y="{y}" text-anchor="middle" font-size="12" font-weight="bold" '
            f'fill="{MARK}">{_LETTERS[marker.kind]}<title>{_text(marker.label)}: '
            f"{_text(marker.reason)}</title></text>"
        )
    parts.append(
        f'<text x="{_LEFT}" y="{HEIGHT - 12}" font-size="11" fill="{INK}">'
        f"Items per {period}. Markers: R rising frequency, T first threat, "
        f"L first mention of location, F first mention of family.</text></svg>"
    )
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped by _text


def describe(found: Sequence[Bar], *, period: Period, markers: Sequence[Marker]) -> str:
    """The chart in words (for <desc>, screen readers and the PDF's text layer)."""
    if not found:
        return gettext("No dated items yet.")
    total = sum(b.count for b in found)
    busiest = max(found, key=lambda b: b.count)
    words = [
        f"{total} items from {found[0].label} to {found[-1].label}, counted per {period}.",
        f"Busiest {period}: {busiest.label} with {busiest.count}.",
    ]
    if markers:
        words.append(
            "Markers: " + "; ".join(f"{m.label} on {m.day.isoformat()}" for m in markers) + "."
        )
    else:
        words.append(gettext("No escalation markers."))
    return " ".join(words)


def _bar_index(starts: Sequence[date], day: date) -> int | None:
    found = None
    for index, start in enumerate(starts):
        if start <= day:
            found = index
        else:
            break
    return found


def _step(top: int) -> int:
    """A round tick step (1, 2, 5 x 10^k) giving at most five grid lines."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if top <= step * 5:
                return step
        magnitude *= 10


def _text(value: str) -> str:
    return html.escape(_XML_INVALID.sub("\ufffd", value), quote=True)
