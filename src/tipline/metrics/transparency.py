"""The public transparency report: headline figures, suppressed tables, charts, method notes.

Every published count goes through ``suppression.suppress`` (threshold ``TIPLINE_METRICS_
SUPPRESSION_THRESHOLD``, default 10). Tables are chosen so that they share no margin except the
grand total, which suppression never withholds as a complement: one table cannot undo another.
Headline figures derived from few reports (a median of fewer than the threshold, a share of
fewer) are not published either.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tipline import countries
from tipline.cases import categories
from tipline.cases.states import ACTIONED_OUTCOMES, CLOSED_OUTCOMES
from tipline.metrics import satisfaction, selectors, stats, takedown
from tipline.metrics.models import ReportFact
from tipline.metrics.period import Filters, Period
from tipline.metrics.suppression import Published, Table, suppress

LANGUAGES = ("en", "fr", "hi")


def threshold() -> int:
    return int(settings.TIPLINE_METRICS_SUPPRESSION_THRESHOLD)


@dataclass(frozen=True)
class PublishedTable:
    key: str
    title: str
    published: Published
    row_labels: list[str]
    col_labels: list[str]
    # Text columns after the counts, one row per table row and the total (medians, never counts).
    extra_labels: tuple[str, ...] = ()
    extra: tuple[tuple[str, ...], ...] = ()

    def grid(self) -> list[tuple[str, list[str]]]:
        rows = [*self.row_labels, _("Total")]
        return list(zip(rows, self.published.grid(), strict=True))

    def bars(self) -> list[int | None]:
        """Per row, the bar length (0-100) of its published total; None where it is hidden.

        Bars are HTML, not SVG: WeasyPrint draws SVG text one character at a time, which breaks
        Devanagari, and the label of each bar is the table row it sits in anyway.
        """
        last = len(self.published.values[0]) - 1
        shown = [self.published.shown(i, last) for i in range(len(self.row_labels))]
        top = max([int(t) for t in shown if t.isdigit()] or [0])
        return [(round(100 * int(t) / top) if top else 0) if t.isdigit() else None for t in shown]

    def rows(self) -> list[tuple[str, list[str], int | None, tuple[str, ...]]]:
        grid = self.published.grid()
        bars = [*self.bars(), None]
        labels = [*self.row_labels, _("Total")]
        extra = self.extra or tuple(() for _label in labels)
        return list(zip(labels, grid, bars, extra, strict=True))


BAR_CSS = " ".join(f".w{n}{{width:{n}%}}" for n in range(101))


def _group(outcome: str) -> str:
    if outcome in {o.value for o in ACTIONED_OUTCOMES}:
        return "actioned"
    if outcome in {o.value for o in CLOSED_OUTCOMES}:
        return "closed"
    return "open"


def tables(period: Period, t: int) -> list[PublishedTable]:
    rows = list(
        ReportFact.objects.filter(day__gte=period.start, day__lte=period.end).values_list(
            "category", "outcome", "channel", "country", "day"
        )
    )
    labels = {c.code: str(c.label) for c in categories.CATEGORIES}
    cats = [c.code for c in categories.CATEGORIES]
    groups = ["actioned", "closed", "open"]
    by_cat = Counter((c, _group(o)) for c, o, _ch, _co, _d in rows)
    out = [
        PublishedTable(
            "category_outcome",
            _("Reports by category and what became of them"),
            suppress(Table.of(cats, groups, [[by_cat[(c, g)] for g in groups] for c in cats]), t),
            [labels[c] for c in cats],
            [_("Action taken"), _("Closed without action"), _("Still open")],
        )
    ]
    channels = Counter(ch for _c, _o, ch, _co, _d in rows)
    names = sorted(channels, key=lambda k: (-channels[k], k)) or ["form"]
    out.append(
        PublishedTable(
            "channel",
            _("Reports by channel"),
            suppress(Table.of(names, ["n"], [[channels[n]] for n in names]), t),
            names,
            [_("Reports")],
        )
    )
    where = Counter(co or "--" for _c, _o, _ch, co, _d in rows)
    codes = sorted(where, key=lambda k: (-where[k], k)) or ["--"]
    out.append(
        PublishedTable(
            "country",
            _("Reports by the country they concern"),
            suppress(Table.of(codes, ["n"], [[where[c]] for c in codes]), t),
            [_("Not said") if c == "--" else countries.name(c) for c in codes],
            [_("Reports")],
        )
    )
    weeks: list[Any] = []
    start = period.start - timedelta(days=period.start.weekday())
    while start <= period.end:
        weeks.append(start)
        start += timedelta(days=7)
    per_week = Counter(d - timedelta(days=d.weekday()) for *_x, d in rows)
    out.append(
        PublishedTable(
            "week",
            _("Reports per week (weeks start on Monday)"),
            suppress(
                Table.of([w.isoformat() for w in weeks], ["n"], [[per_week[w]] for w in weeks]), t
            ),
            [w.isoformat() for w in weeks],
            [_("Reports")],
        )
    )
    out += takedown_tables(period, t)
    dist = satisfaction.distributions(period)
    questions = {
        "easy": _("Easy to report"),
        "safe": _("Felt safe"),
        "next_steps": _("Knows what happens next"),
    }
    out.append(
        PublishedTable(
            "satisfaction",
            _("Reporter satisfaction (answers from 1, not at all, to 5, completely)"),
            suppress(
                Table.of(
                    [d.question for d in dist],
                    [str(n) for n in satisfaction.SCORES],
                    [list(d.counts) for d in dist],
                ),
                t,
            ),
            [questions[d.question] for d in dist],
            [str(n) for n in satisfaction.SCORES],
        )
    )
    return out


TAKEDOWN_BUCKETS = (timedelta(hours=24), timedelta(days=3), timedelta(days=7))


def _bucket(row: stats.TakedownRow) -> int:
    """0-2: removed within 24 h / 3 days / 7 days of the notice; 3: later; 4: not removed."""
    if row.removed_at is None:
        return 4
    taken = row.removed_at - row.sent_at
    return next((k for k, limit in enumerate(TAKEDOWN_BUCKETS) if taken <= limit), 3)


def _km_hours(rows: list[stats.TakedownRow], t: int, now: Any) -> tuple[str, str]:
    """Kaplan-Meier median and p90 hours, published only for at least ``t`` notices."""
    if len(rows) < t:
        return (_("not published"), _("not published"))
    summary = stats.takedown_summary(rows, now=now)
    return tuple(  # type: ignore[return-value]  # two items, as the annotation says
        f"{h:.1f}" if h is not None else _("not yet")
        for h in (summary.median_hours, summary.p90_hours)
    )


def takedown_tables(period: Period, t: int) -> list[PublishedTable]:
    """Notices sent in the period by hosting country and by provider, and how fast each came down.

    The counts (removed within 24 h, within 3 days, within 7 days, later, not removed) are
    disjoint, so each row adds up to its notices and suppression treats them like any table;
    the shares within 24 h / 3 days / 7 days are the reader's sums of published cells. Median
    and p90 (Kaplan-Meier, hours) stand beside a row only when it holds at least ``t`` notices.
    """
    now = timezone.now()
    rows = takedown.takedown_rows(start=period.start_at, end=min(period.end_at, now))
    cols = ["24h", "3d", "7d", "later", "up"]
    col_labels = [
        _("Down within 24 hours"),
        _("Within 3 days"),
        _("Within 7 days"),
        _("Later"),
        _("Not removed"),
    ]
    extra_labels = (_("Median hours"), _("90th percentile hours"))
    out = []
    for key, title, attr in (
        ("takedown_country", _("Takedown notices by hosting country"), "country"),
        ("takedown_provider", _("Takedown notices by hosting provider"), "provider"),
    ):
        groups: dict[str, list[stats.TakedownRow]] = {}
        for row in rows:
            groups.setdefault(getattr(row, attr) or "?", []).append(row)
        names = sorted(groups, key=lambda k: (-len(groups[k]), k)) or ["?"]
        cells = [[0] * len(cols) for _n in names]
        for i, name in enumerate(names):
            for row in groups.get(name, []):
                cells[i][_bucket(row)] += 1
        labels = [
            _("Not known") if n == "?" else (countries.name(n) if attr == "country" else n)
            for n in names
        ]
        out.append(
            PublishedTable(
                key,
                title,
                suppress(Table.of(names, cols, cells), t),
                labels,
                col_labels,
                extra_labels,
                (*(_km_hours(groups.get(n, []), t, now) for n in names), _km_hours(rows, t, now)),
            )
        )
    return out


def _hours(summary: stats.DurationSummary, t: int) -> str | None:
    if summary.count < t or summary.median is None:
        return None
    return f"{summary.median:.1f}"


def headlines(period: Period, t: int) -> list[tuple[str, str]]:
    figures = selectors.figures(period, Filters())
    received = figures.totals["received"]
    hidden = f"<{t}"
    lines = [(_("Reports received"), str(received) if received >= t else hidden)]
    concluded = figures.totals["concluded"]
    share = figures.actionable_share
    lines.append(
        (
            _("Share of decided reports on which action was taken"),
            f"{share:.0%}" if share is not None and concluded >= t else _("not published"),
        )
    )
    for name, label in (
        ("first_look", _("Median hours until an analyst first looked")),
        ("claim", _("Median hours until an analyst took the report")),
        ("decision", _("Median hours until a decision")),
    ):
        value = _hours(figures.durations[name], t)
        lines.append((label, value if value is not None else _("not published")))
    take = figures.takedown
    lines.append(
        (
            _("Median hours from notice to removal"),
            f"{take.median_hours:.1f}"
            if take.notices >= t and take.median_hours is not None
            else _("not published"),
        )
    )
    return lines


def render_html(period: Period, language: str, *, t: int | None = None) -> str:
    if language not in LANGUAGES:
        raise ValueError("unknown language")
    t = threshold() if t is None else t
    with translation.override(language):
        context = {
            "period": period,
            "language": language,
            "threshold": t,
            "headlines": headlines(period, t),
            "tables": tables(period, t),
            "hotline_name": settings.TIPLINE_HOTLINE_NAME,
            "bar_css": BAR_CSS,
            "generated": timezone.now(),
        }
        return render_to_string("metrics/transparency.html", context)


def style_hash(html: str) -> str:
    """Base64 SHA-256 of the report's one inline stylesheet (for a page's CSP)."""
    start = html.index("<style>") + len("<style>")
    body = html[start : html.index("</style>", start)]
    return base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()


def render_pdf(html: str) -> bytes:
    import weasyprint  # type: ignore[import-untyped]  # ships no type hints
    from PIL import ImageFile
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

    # Importing WeasyPrint turns on Pillow's LOAD_TRUNCATED_IMAGES process-wide (see
    # locker/report_pdf.py); this PDF embeds no raster image, so put the safe default back.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    class NoFetch(URLFetcher):  # type: ignore[misc]  # URLFetcher is untyped (Any)
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError("the transparency report loads nothing")

    pdf: bytes = weasyprint.HTML(string=html, base_url=None, url_fetcher=NoFetch()).write_pdf()
    return pdf
