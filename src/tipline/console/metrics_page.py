"""The metrics dashboard, its CSV tables and the transparency report (tipline.metrics).

Adapters only: read the period and filters (``tipline.metrics.period`` says what is wrong with
them), ask the policy for the scope, ask the selectors, render. Downloads are audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tipline import countries
from tipline.audit import chain
from tipline.cases import categories
from tipline.cases.models import Report
from tipline.cases.policies import ReportPolicy
from tipline.cases.states import Outcome
from tipline.console.shared import no_store, not_found, staff_of
from tipline.metrics import charts, export, satisfaction, selectors, tally, transparency, trends
from tipline.metrics.access import MetricsPolicy
from tipline.metrics.models import TrendAlert
from tipline.metrics.period import (
    CHANNELS,
    FILTERS,
    BadPeriod,
    Filters,
    Period,
    last_days,
    make,
    make_filters,
    parse_day,
    parse_named,
)
from tipline.staff.models import StaffUser
from tipline.triage import tiers

MAX_PARAM = 40
PERIOD_PARAMS = ("from", "to")
SECTIONS = (
    "by_day", "by_category", "by_channel", "by_country", "by_tier", "outcomes",
    "durations_hours", "backlog_age", "workload", "takedown", "takedown_by_country",
    "takedown_by_provider",
)  # fmt: skip


def _read(query: QueryDict) -> tuple[Period, Filters]:
    given: dict[str, str] = {}
    for key in query:
        value = query.get(key, "")
        if len(key) > MAX_PARAM or len(value) > MAX_PARAM or len(query.getlist(key)) > 1:
            raise BadPeriod(_("A filter is too long or given twice."))
        if not (key + value).isprintable():
            raise BadPeriod(_("A filter holds characters that cannot be used."))
        given[key] = value
    start, end = given.pop("from", ""), given.pop("to", "")
    filters = make_filters({k: v for k, v in given.items() if v or k not in FILTERS})
    if not start and not end:
        return last_days(30), filters
    end_day = parse_day(end) if end else parse_day(start) + timedelta(days=29)
    start_day = parse_day(start) if start else end_day - timedelta(days=29)
    return make(start_day, end_day), filters


def _choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "category": [(c.code, str(c.label)) for c in categories.CATEGORIES],
        "channel": [(c, c) for c in CHANNELS],
        "tier": [(t.value, t.value) for t in tiers.Tier],
    }


def _country_options(chosen: str) -> SafeString:
    # ~250 options: written here once rather than a template loop with a test per option.
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((code, " selected" if code == chosen else "", name) for code, name in countries.by_name()),
    )


def _named(figures: selectors.Figures) -> dict[str, list[tuple[str, int]]]:
    """Rows with people's words for the codes, the code kept in brackets (it is what the CSV
    and the export say)."""
    cats = {c.code: str(c.label) for c in categories.CATEGORIES}
    outcomes = {o.value: str(o.label) for o in Outcome}
    return {
        "by_category": [(f"{cats.get(k, k)} ({k})", v) for k, v in figures.by_category],
        "by_country": [
            (f"{countries.name(k) if k != '--' else _('Not said')} ({k})", v)
            for k, v in figures.by_country
        ],
        "outcomes": [(f"{outcomes.get(k, k)} ({k})", v) for k, v in figures.outcomes],
    }


def _charts(figures: selectors.Figures, named: dict[str, list[tuple[str, int]]]) -> dict[str, Any]:
    hours = _("hours")
    return {
        "by_day": charts.columns(_("Reports received per day"), figures.by_day),
        "by_category": charts.bars(_("Reports by category"), named["by_category"]),
        "by_country": charts.bars(_("Reports by country"), named["by_country"][:15]),
        "by_channel": charts.bars(_("Reports by channel"), figures.by_channel),
        "outcomes": charts.bars(_("Outcomes"), named["outcomes"]),
        "durations": charts.bars(
            _("Median hours to each step"),
            [(name, s.median) for name, s in figures.durations.items()],
            unit=hours,
        ),
        "backlog": charts.bars(_("Open reports by age"), figures.backlog["ages"]),
        "survival": charts.survival(
            _("Takedown: share still online after the notice"),
            [(s.hours, s.online) for s in figures.survival],
        ),
    }


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    scope = MetricsPolicy.scope(user)
    if scope is None:
        return not_found(request)
    error, status = "", 200
    try:
        period, filters = _read(request.GET)
    except BadPeriod as exc:
        error, status = str(exc), 400
        period, filters = last_days(30), Filters()
    figures = selectors.figures(period, filters, own=None if scope == "all" else user.pk)
    named = _named(figures)
    context = {
        "figures": figures,
        "charts": _charts(figures, named),
        "named": named,
        "error": error,
        "choices": _choices(),
        "country_options": _country_options(filters.country),
        "query": request.GET.urlencode() if not error else "",
        "scope": scope,
        "may_publish": MetricsPolicy.may_publish(user),
        "quarter": _last_quarter(period),
        "satisfaction": satisfaction.distributions(period) if scope == "all" else [],
        "scores": satisfaction.SCORES,
        "may_read_comments": MetricsPolicy.may_read_comments(user),
        "alerts": _alerts(user) if scope == "all" else [],
        "may_acknowledge": MetricsPolicy.may_publish(user),
        "exact_limit": tally.EXACT_LIMIT,
    }
    return no_store(render(request, "console/metrics.html", context, status=status))


def _last_quarter(period: Period) -> str:
    end = period.end
    return f"{end.year}-Q{(end.month - 1) // 3 + 1}"


@require_GET
def table_csv(request: HttpRequest, section: str) -> HttpResponse:
    user = staff_of(request)
    scope = MetricsPolicy.scope(user)
    if scope is None or section not in SECTIONS:
        return not_found(request)
    try:
        period, filters = _read(request.GET)
    except BadPeriod as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    with transaction.atomic():
        figures = selectors.figures(period, filters, own=None if scope == "all" else user.pk)
        chain.record(
            actor=user.username,
            action="metrics.export",
            details={
                "section": section,
                "from": period.start.isoformat(),
                "to": period.end.isoformat(),
                "scope": scope,
                **filters.as_query(),
            },
        )
    response = HttpResponse(export.as_csv(figures, section=section), content_type="text/csv")
    name = f"tipline-{section}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return no_store(response)


@require_GET
def transparency_report(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    if not MetricsPolicy.may_publish(user):
        return not_found(request)
    language = request.GET.get("language", "en")
    kind = request.GET.get("format", "html")
    try:
        period = parse_named(request.GET.get("period", "")[:MAX_PARAM])
        if language not in transparency.LANGUAGES or kind not in ("html", "pdf"):
            raise BadPeriod(_("Choose a language and a format from the lists."))
    except BadPeriod as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    with transaction.atomic():
        html = transparency.render_html(period, language)
        chain.record(
            actor=user.username,
            action="metrics.transparency",
            details={"period": request.GET["period"].upper(), "language": language, "format": kind},
        )
    if kind == "html":
        page = HttpResponse(html)
        # The report is one self-contained file (it is also saved and published as is), so its
        # stylesheet is inline; the page's policy allows exactly that stylesheet, by its hash.
        page._csp_config = {  # type: ignore[attr-defined]  # read by Django's CSP middleware
            **settings.SECURE_CSP,
            "style-src": [f"'sha256-{transparency.style_hash(html)}'"],
        }
        return no_store(page)
    response = HttpResponse(transparency.render_pdf(html), content_type="application/pdf")
    name = f"transparency-{request.GET['period'].upper()}-{language}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return no_store(response)


@require_GET
def comments(request: HttpRequest) -> HttpResponse:
    """Reporters' free-text feedback for the period: supervisors and administrators; audited."""
    user = staff_of(request)
    if not MetricsPolicy.may_read_comments(user):
        return not_found(request)
    try:
        period, _filters = _read(request.GET)
    except BadPeriod as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    rows = satisfaction.comments_read(actor_username=user.username, period=period)
    return no_store(
        render(request, "console/metrics_comments.html", {"rows": rows, "period": period})
    )


def _alerts(user: StaffUser) -> list[tuple[TrendAlert, list[Report]]]:
    """Open alerts, each with the reports behind it that this person may open (the policy's
    queryset: an auditor sees the alert and its count, no report)."""
    out = []
    for alert in trends.open_alerts():
        ids = [i for i in alert.report_ids if isinstance(i, str)][:50]
        visible = ReportPolicy.visible(user).filter(pk__in=ids).order_by("created_at")
        out.append((alert, list(visible)))
    return out


@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    user = staff_of(request)
    if not MetricsPolicy.may_publish(user):
        return not_found(request)
    try:
        trends.alert_acknowledge(actor_username=user.username, alert_id=alert_id)
    except trends.AlertNotFound:
        return not_found(request)
    return HttpResponseRedirect(reverse("console:metrics") + "#sec-alerts", status=303)
