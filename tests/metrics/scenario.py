"""A scripted week at a hotline: reports over seven days, views, claims, decisions, a four-eyes
referral and two reports naming the same URL. Times of receipt are set back by days (a plain
column); what staff do happens now, so waiting times are days long, as they would be.

Tests count the figures again from these raw rows (``independent_counts``), never from metrics.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from tests import factories
from tipline.audit.models import AuditEntry
from tipline.cases import actions, casework, review, transitions
from tipline.cases.models import Report
from tipline.cases.states import Channel, Outcome, ReportState
from tipline.metrics import rollup

AGENCY = "National Police Cybercrime Unit"
CATEGORIES = ("cyberstalking", "sextortion", "other", "csam")
COUNTRIES = ("CA", "FR", "IN", "")


@dataclass
class Week:
    first_day: Any
    last_day: Any
    people: dict[str, Any] = field(default_factory=dict)
    reports: list[Report] = field(default_factory=list)


def build(*, reports: int = 28, refresh_between: bool = True) -> Week:
    today = datetime.now(UTC).date()
    week = Week(first_day=today - timedelta(days=6), last_day=today)
    week.people = {
        "ana": factories.staff("ana", "analyst").user,
        "ben": factories.staff("ben", "analyst").user,
        "sue": factories.staff("sue", "supervisor").user,
    }
    ana, ben = week.people["ana"], week.people["ben"]

    def maybe_refresh() -> None:
        if refresh_between:
            rollup.refresh_all()

    for i in range(reports):
        category = CATEGORIES[i % len(CATEGORIES)]
        details = {"urls": ["https://files.example.test/shared/item-7"]} if i in (4, 9) else {}
        created = factories.report(
            category,
            text="Someone keeps sending threatening messages at night.",
            details=details,
            channel=Channel.API if i % 5 == 0 else Channel.WEB,
        ).report
        day = week.first_day + timedelta(days=i % 7)
        at = datetime.combine(day, time(8, 0), tzinfo=UTC) + timedelta(minutes=7 * i)
        Report.objects.filter(pk=created.pk).update(
            created_at=at, country=COUNTRIES[i % len(COUNTRIES)]
        )
        created.refresh_from_db()
        week.reports.append(created)
        if i in (4, 9):
            factories.run_tasks(created)
    maybe_refresh()
    for i, report in enumerate(week.reports):
        if i % 2 == 0:
            casework.case_open(actor=ana, report=report)
        if i % 3 == 0:
            actions.report_claim(actor=ana if i % 2 == 0 else ben, report=report)
    maybe_refresh()
    for i, report in enumerate(week.reports):
        report.refresh_from_db()
        if i % 6 == 0:
            transitions.report_decide(actor=ana, report=report, outcome=Outcome.NOT_ACTIONABLE)
        elif i % 9 == 3:
            # A referral needs its facts in place first (issue 15): legal assessment, severity.
            review.classification_set(
                actor=report.assigned_to,
                report=report,
                values={"legal_assessment": "national", "severity": "B"},
            )
            transitions.report_decide(
                actor=report.assigned_to, report=report, outcome=Outcome.REFERRED, agency=AGENCY
            )
            transitions.report_confirm(actor=week.people["sue"], report=report)
    maybe_refresh()
    return week


def independent_counts(week: Week, *, now: datetime) -> dict[str, Any]:
    """The figures counted straight from the report rows and the audit log."""
    rows = list(Report.objects.all())
    claims = {}
    for entry in AuditEntry.objects.filter(action__in=["report.claim", "report.assign"]).order_by(
        "seq"
    ):
        if entry.details.get("state") == ["new", "in_review"]:
            claims.setdefault(entry.target_id, entry.created_at)
    open_states = {ReportState.NEW, ReportState.IN_REVIEW, ReportState.AWAITING_SECOND_REVIEW}
    return {
        "received": len(rows),
        "by_day": Counter(r.created_at.astimezone(UTC).date().isoformat() for r in rows),
        "by_category": Counter(r.category for r in rows),
        "by_country": Counter(r.country or "--" for r in rows),
        "by_channel": Counter("form" if r.channel == "web" else r.channel for r in rows),
        "outcomes": Counter(r.outcome for r in rows if r.outcome),
        "actionable": sum(r.outcome in ("referred", "notice_sent", "forwarded") for r in rows),
        "claimed": len(claims),
        "open": sum(r.state in open_states for r in rows),
        "assigned_to_ana": sum(r.assigned_to_id == week.people["ana"].pk for r in rows),
        "now": now,
    }
