"""Charts as accessible SVG, written by hand on the server (no script, no third-party code).

Hand-written beats a plotting library here: three chart shapes, a few dozen lines each, output
that is small, deterministic (tests compare the drawn values with the tables) and carries
``role="img"``, a ``<title>`` and a ``<desc>`` that says what the chart shows in words. Every
chart sits beside a table with the same numbers, which is the accessible form; the SVG is the
glance. Each bar carries ``data-value`` so a test can read back what was drawn.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

_ids = itertools.count(1)
WIDTH = 640
BAR = "#2f6f8f"
MUTED = "#9aa5ad"


def _frame(title: str, desc: str, height: int, body: list[str]) -> SafeString:
    n = next(_ids)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="chart-t{n}" aria-describedby="chart-d{n}" width="100%">'
        f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(desc)}</desc>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text is escaped


def _nice_max(values: Sequence[float]) -> float:
    top = max([v for v in values if v is not None] or [0])
    return float(top) if top > 0 else 1.0


def bars(
    title: str,
    items: Sequence[tuple[str, float | None]],
    *,
    unit: str = "",
    shown: Sequence[str] = (),
) -> SafeString:
    """Horizontal bars, one per label; ``shown`` replaces a value's text (e.g. "<10")."""
    if not items:
        return _frame(title, _("no data"), 40, [_empty()])
    row, left, top = 24, 250, 8
    scale = (WIDTH - left - 80) / _nice_max([v or 0 for _l, v in items])
    body = []
    words = []
    for k, (label, value) in enumerate(items):
        y = top + k * row
        text = shown[k] if k < len(shown) and shown[k] else _fmt(value, unit)
        width = 0 if value is None else max(0.0, value * scale)
        body.append(
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(_short(label))}</text>"
            f'<rect x="{left}" y="{y + 3}" width="{width:.1f}" height="{row - 8}" '
            f'fill="{BAR if value is not None else MUTED}" data-value="{escape(text)}"/>'
            f'<text x="{left + width + 4:.1f}" y="{y + 15}" font-size="12">{escape(text)}</text>'
        )
        words.append(f"{label}: {text}")
    return _frame(title, "; ".join(words), top * 2 + row * len(items), body)


def columns(title: str, items: Sequence[tuple[str, float]], *, unit: str = "") -> SafeString:
    """Vertical columns over time (volume per day or week); labels thinned to stay legible."""
    if not items:
        return _frame(title, _("no data"), 40, [_empty()])
    height, bottom, left = 200, 30, 36
    plot = WIDTH - left - 8
    step = plot / len(items)
    top_value = _nice_max([v for _l, v in items])
    scale = (height - bottom - 12) / top_value
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - 8}" y2="{height - bottom}" '
        'stroke="#555"/>',
        f'<text x="{left - 4}" y="16" text-anchor="end" font-size="11">'
        f"{_fmt(top_value, '')}</text>",
    ]
    every = max(1, len(items) // 8)
    for k, (label, value) in enumerate(items):
        h = value * scale
        x = left + k * step
        body.append(
            f'<rect x="{x + step * 0.15:.1f}" y="{height - bottom - h:.1f}" '
            f'width="{step * 0.7:.1f}" height="{h:.1f}" fill="{BAR}" '
            f'data-value="{value:g}"><title>{escape(label)}: {value:g}</title></rect>'
        )
        if k % every == 0:
            body.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 10}" text-anchor="middle" '
                f'font-size="10">{escape(label[-5:])}</text>'
            )
    total = sum(v for _l, v in items)
    peak = max(items, key=lambda kv: kv[1])
    desc = _("%(n)s periods, %(total)s in all; highest %(peak)s on %(label)s.") % {
        "n": len(items),
        "total": _fmt(total, unit),
        "peak": _fmt(peak[1], unit),
        "label": peak[0],
    }
    return _frame(title, desc, height, body)


def survival(title: str, points: Sequence[tuple[float, float]]) -> SafeString:
    """A step curve of the share still online against hours since the notice."""
    if not points:
        return _frame(title, _("no notices in this period"), 40, [_empty()])
    height, bottom, left = 200, 30, 40
    last = max(points[-1][0], 1.0)
    sx = (WIDTH - left - 10) / last
    sy = height - bottom - 10
    path = [f"M{left},{height - bottom - sy:.1f}"]
    for hours, online in points:
        x = left + hours * sx
        path.append(f"H{x:.1f}V{height - bottom - online * sy:.1f}")
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - 10}" y2="{height - bottom}" '
        'stroke="#555"/>',
        f'<path d="{"".join(path)}" fill="none" stroke="{BAR}" stroke-width="2"/>',
        f'<text x="{left}" y="{height - 8}" font-size="11">0 h</text>',
        f'<text x="{WIDTH - 10}" y="{height - 8}" text-anchor="end" font-size="11">'
        f"{last:.0f} h</text>",
        f'<text x="{left - 4}" y="{height - bottom - sy + 4:.1f}" text-anchor="end" '
        'font-size="11">100%</text>',
    ]
    desc = _("Share still online after the notice: %(end)s after %(hours)s hours.") % {
        "end": f"{points[-1][1]:.0%}",
        "hours": f"{points[-1][0]:.0f}",
    }
    return _frame(title, desc, height, body)


def _short(label: str, most: int = 36) -> str:
    # The full label is in the description and in the table beside the chart.
    return label if len(label) <= most else label[: most - 1] + "…"


def _empty() -> str:
    return f'<text x="8" y="24" font-size="13" fill="#555">{escape(_("No data."))}</text>'


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return f"{text} {unit}".strip()


def _(text: str) -> str:
    from django.utils.translation import gettext

    return gettext(text)
