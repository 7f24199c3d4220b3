"""What the case view shows of a report's takedown: notices, tracked URLs, hosts and checks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from tipline.cases.models import Report
from tipline.takedown.models import HostRecord, Notice, Reappearance, TrackedUrl, UrlCheck

CHECKS_SHOWN = 10


@dataclass
class UrlRow:
    tracked: TrackedUrl
    host: HostRecord | None
    checks: list[UrlCheck] = field(default_factory=list)
    reappearances: list[Reappearance] = field(default_factory=list)  # later reports naming it

    @property
    def takedown_time(self) -> timedelta | None:
        t = self.tracked
        if t.notice_sent_at is None or t.removed_at is None:
            return None
        return t.removed_at - t.notice_sent_at

    @property
    def takedown_text(self) -> str:
        """Hours:minutes:seconds from the notice to removal (hours may exceed 24)."""
        spent = self.takedown_time
        if spent is None:
            return ""
        seconds = max(0, int(spent.total_seconds()))
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@dataclass
class NoticeRow:
    notice: Notice
    urls: list[UrlRow]


@dataclass
class Takedown:
    notices: list[NoticeRow]
    unknown: list[UrlRow]  # URLs whose host has no abuse contact yet
    escalations: list[Notice]
    # Addresses tracked in other reports that this report named again (itself or by a file).
    named_again: list[Reappearance] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.notices or self.unknown or self.named_again)

    @property
    def tracked_here(self) -> bool:
        return bool(self.notices or self.unknown)

    def other_report_ids(self) -> set[uuid.UUID]:
        """Reports named in the re-appearance lines (the case view links those it may show)."""
        rows = [r for n in self.notices for u in n.urls for r in u.reappearances]
        rows += [r for u in self.unknown for r in u.reappearances]
        return {r.report_id for r in rows} | {r.tracked.report_id for r in self.named_again}


def takedown_for(report: Report) -> Takedown:
    tracked = list(TrackedUrl.objects.filter(report=report).order_by("id"))
    records = {r.host: r for r in HostRecord.objects.filter(host__in={t.host for t in tracked})}
    checks: dict[int, list[UrlCheck]] = {}
    for check in UrlCheck.objects.filter(tracked__in=tracked).order_by("-checked_at"):
        shown = checks.setdefault(check.tracked_id, [])
        if len(shown) < CHECKS_SHOWN:
            shown.append(check)
    again: dict[int, list[Reappearance]] = {}
    for row in Reappearance.objects.filter(tracked__in=tracked).order_by("at"):
        again.setdefault(row.tracked_id, []).append(row)
    rows = {
        t.pk: UrlRow(t, records.get(t.host), checks.get(t.pk, []), again.get(t.pk, []))
        for t in tracked
    }
    notices = list(Notice.objects.filter(report=report))
    return Takedown(
        notices=[
            NoticeRow(n, [rows[t.pk] for t in tracked if t.notice_id == n.pk]) for n in notices
        ],
        unknown=[rows[t.pk] for t in tracked if t.notice_id is None],
        escalations=[n for n in notices if n.state == "escalated"],
        named_again=list(
            Reappearance.objects.filter(report=report).select_related("tracked").order_by("at")
        ),
    )
