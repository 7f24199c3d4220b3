"""A server-side SVG bar chart of the locker's counts, with the escalation markers on it.

Drawn here rather than in a browser because the locker must work with JavaScript off and the PDF
must not fetch anything: the SVG is a string put inline into the page and the PDF. Every piece of
text in it (sender names, dates, reasons) goes through `_text`, which escapes markup and drops
characters XML does not allow, so a sender called `<script>` or `]]>` is only ever text.

Accessible: role="img", a <title> and a <desc> that says in words what the bars show (totals,
the busiest period, each marker), so a screen reader, pdftotext and a court clerk get the same
facts as someone looking at the bars. Colours are fixed and pass WCAG AA on white: bars #1f4e79
(9.3:1), markers #a4001d (8.1:1), text #1a1a1a.

Readable on a phone: the page scales the SVG to its column (CSS max-width: 100%), so text size
on screen is font-size x column width / WIDTH. The chart is drawn 360 units wide with text of at
least 14 units, so on a 390 px wide phone (a column of about 330 px) no text is smaller than
12 px; tests/browser/test_locker_chart_dates.py measures it. The caption and the legend (one
line per marker kind shown, wrapped) are in the reader's language, like the <desc>.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import ngettext

from tipline.locker.parsers.i18n import _ as gettext
from tipline.locker.pattern import Marker, Pattern, week_label

Period = Literal["day", "week", "month"]
# Daily bars up to about two months, weekly up to about a year and a half, then monthly, so
# that a bar is never thinner than about 4 units in the 360-unit wide chart.
MAX_DAYS = 62
MAX_WEEKS = 80
WIDTH = 360
PLOT_HEIGHT = 170
FONT = 14  # the smallest text, in chart units (see the module docstring)
LINE = 19  # one line of caption or legend
LEGEND_CHARS = 40  # characters per legend line at FONT in WIDTH
LABEL_WIDTH = 96  # room one axis label ("2026-03-14") needs, in chart units
_LEFT, _RIGHT, _TOP, _AXIS = 40, 10, 40, 30
BAR = "#1f4e79"
MARK = "#a4001d"
INK = "#1a1a1a"
GRID = "#c8c8c8"
_LETTERS = {"frequency": "R", "threat": "T", "location": "L", "presence": "P", "family": "F"}


def _caption(period: Period) -> str:
    return {
        "day": gettext("Items per day."),
        "week": gettext("Items per week."),
        "month": gettext("Items per month."),
    }[period]
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
    legend = _legend(period, markers) if found else []
    height = _TOP + PLOT_HEIGHT + _AXIS + LINE * len(legend) + 8
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="DejaVu Sans, sans-serif" class="locker-chart">'
        f'<title id="{ident}-title">{_text(title)}</title>'
        f'<desc id="{ident}-desc">{_text(summary)}</desc>'
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>'
    )
    if not found:
        body = (
            f'<text x="{WIDTH // 2}" y="{height // 2}" text-anchor="middle" fill="{INK}" '
            f'font-size="{FONT}">{_text(gettext("No dated items yet."))}</text>'
        )
        return mark_safe(head + body + "</svg>")  # noqa: S308 - every text above is escaped
    parts = [head]
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, PLOT_HEIGHT
    top = max(b.count for b in found)
    step = _step(top)
    ceiling = max(step, -(-top // step) * step)
    base = _TOP + plot_h
    for tick in range(0, ceiling + 1, step):
        y = base - plot_h * tick / ceiling
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{_LEFT - 5}" y="{y + 5:.1f}" text-anchor="end" font-size="{FONT}" '
            f'fill="{INK}">{_short(tick)}</text>'
        )
    slot = plot_w / len(found)
    gap = slot * 0.15 if slot > 4 else 0
    for index, bar in enumerate(found):
        height_bar = plot_h * bar.count / ceiling
        x = _LEFT + index * slot + gap / 2
        parts.append(
            f'<rect x="{x:.2f}" y="{base - height_bar:.2f}" width="{slot - gap:.2f}" '
            f'height="{height_bar:.2f}" fill="{BAR}"><title>{_text(bar.label)}: {bar.count}'
            f"</title></rect>"
        )
    parts.extend(_axis_labels(found, slot, base))
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
        y = _TOP - 8 - 16 * min(level, 1)
        parts.append(
            f'<line x1="{x:.1f}" y1="{_TOP - 4}" x2="{x:.1f}" y2="{base}" stroke="{MARK}" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{x:.1f}" y="{y}" text-anchor="middle" font-size="{FONT + 1}" '
            f'font-weight="bold" fill="{MARK}">{_LETTERS[marker.kind]}<title>'
            f"{_text(marker.label)}: {_text(marker.reason)}</title></text>"
        )
    y = base + _AXIS + LINE - 6
    for line in legend:
        parts.append(f'<text x="4" y="{y}" font-size="{FONT}" fill="{INK}">{line}</text>')
        y += LINE
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped by _text


def _axis_labels(found: Sequence[Bar], slot: float, base: int) -> list[str]:
    """At most as many date labels as fit side by side, the first one left-aligned."""
    fit = max(1, int((WIDTH - _LEFT - _RIGHT) // LABEL_WIDTH))
    every = max(1, -(-len(found) // fit))
    parts = []
    for index in range(0, len(found), every):
        x = _LEFT + (index + 0.5) * slot
        anchor = "middle"
        if x - LABEL_WIDTH / 2 < 0:
            x, anchor = 2, "start"
        elif x + LABEL_WIDTH / 2 > WIDTH:
            x, anchor = WIDTH - 2, "end"
        parts.append(
            f'<text x="{x:.1f}" y="{base + 18}" text-anchor="{anchor}" font-size="{FONT}" '
            f'fill="{INK}">{_text(found[index].label)}</text>'
        )
    return parts


def _legend(period: Period, markers: Sequence[Marker]) -> list[str]:
    """Caption and legend lines, escaped, with each marker letter in bold marker red."""
    lines = [_text(line) for line in textwrap.wrap(_caption(period), LEGEND_CHARS)]
    # Each kind shown once, named by its marker's label (already in the reader's language).
    labels = {m.kind: m.label for m in reversed(markers)}
    for kind in (k for k in _LETTERS if k in labels):
        wrapped = textwrap.wrap(labels[kind], LEGEND_CHARS - 3) or [""]
        lines.append(
            f'<tspan font-weight="bold" fill="{MARK}">{_LETTERS[kind]}</tspan> '
            f"{_text(wrapped[0])}"
        )
        lines.extend(f"   {_text(rest)}" for rest in wrapped[1:])
    return lines


def _short(count: int) -> str:
    """Tick labels that fit the narrow margin: 1200 -> 1.2k, 3000000 -> 3M."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:g}M"
    if count >= 10_000:
        return f"{count / 1000:g}k"
    return str(count)


def describe(found: Sequence[Bar], *, period: Period, markers: Sequence[Marker]) -> str:
    """The chart in words (for <desc>, screen readers and the PDF's text layer)."""
    if not found:
        return gettext("No dated items yet.")
    total = sum(b.count for b in found)
    busiest = max(found, key=lambda b: b.count)
    words = [
        ngettext(
            "%(count)s item from %(first)s to %(last)s.",
            "%(count)s items from %(first)s to %(last)s.",
            total,
        )
        % {"count": total, "first": found[0].label, "last": found[-1].label},
        _caption(period),
        gettext("Busiest: %(label)s with %(count)s.")
        % {"label": busiest.label, "count": busiest.count},
    ]
    if markers:
        found_on = "; ".join(
            gettext("%(marker)s on %(day)s") % {"marker": m.label, "day": m.day.isoformat()}
            for m in markers
        )
        words.append(gettext("Markers: %(markers)s.") % {"markers": found_on})
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
