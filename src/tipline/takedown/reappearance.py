"""Re-appearance: a later report of a tracked address, or of a file with the same hash.

A report names an address a notice already followed, or carries a file whose SHA-256 equals one
of a report with tracked addresses: the hotline wants to know the material is still around, so
tracking of those addresses re-opens. Both sides are compared by keyed digest (the identifiers
triage records, ``cases.linking``): URLs are sealed and never compared in the clear. An address
that had been removed goes back to "still online" and is checked first at the next re-check run
(its first removal time stays, for the takedown figures, unless a check finds it serving); one
still tracked only gains the line in the case view. Each (tracked URL, later report) counts once.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from tipline.audit.chain import SYSTEM, record
from tipline.cases.models import ReportIdentifier
from tipline.takedown.models import Reappearance, ReappearanceReason, TrackedUrl, UrlState
from tipline.takedown.steps import notice_follow

MAX_TRACKED = 500  # tracked rows one report can re-open; bounds a hash shared by many reports


def candidates(report_id: uuid.UUID) -> list[tuple[int, ReappearanceReason]]:
    """Tracked URLs of other reports that this report names again, with why (ids only)."""
    mine = ReportIdentifier.objects.filter(
        report_id=report_id, detached=False, kind__in=("url", "sha256")
    ).values_list("kind", "digest")
    urls = [digest for kind, digest in mine if kind == "url"]
    files = [digest for kind, digest in mine if kind == "sha256"]
    found: dict[int, ReappearanceReason] = {}
    if urls:
        same_url = (
            TrackedUrl.objects.filter(url_digest__in=urls)
            .exclude(report_id=report_id)
            .values_list("pk", flat=True)[:MAX_TRACKED]
        )
        found.update(dict.fromkeys(same_url, ReappearanceReason.SAME_URL))
    if files:
        sharing = (
            ReportIdentifier.objects.filter(kind="sha256", digest__in=files, detached=False)
            .exclude(report_id=report_id)
            .values("report_id")
        )
        same_file = (
            TrackedUrl.objects.filter(report_id__in=sharing)
            .exclude(url_digest="")
            .values_list("pk", flat=True)[:MAX_TRACKED]
        )
        for pk in same_file:
            found.setdefault(pk, ReappearanceReason.SAME_FILE)
    return sorted(found.items())[:MAX_TRACKED]


def reappearances_record(*, report_id: uuid.UUID) -> list[Reappearance]:
    """Re-open tracking of what report ``report_id`` names again; one audit entry per URL."""
    found = candidates(report_id)
    made: list[Reappearance] = []
    with transaction.atomic():
        now = timezone.now()
        for pk, reason in found:
            tracked = TrackedUrl.objects.select_for_update().filter(pk=pk).first()
            if tracked is None or not tracked.url_digest:
                continue  # erased meanwhile
            if Reappearance.objects.filter(tracked=tracked, report_id=report_id).exists():
                continue
            reopened = tracked.state == UrlState.REMOVED
            if reopened:
                # Checked first at the next run: still gone, it is removed again (same time).
                tracked.state, tracked.last_checked_at = UrlState.ONLINE, None
                tracked.reopened_at, tracked.reopened_reason = now, "reported_again"
                tracked.save(
                    update_fields=["state", "last_checked_at", "reopened_at", "reopened_reason"]
                )
                notice_follow(tracked)
            made.append(
                Reappearance.objects.create(
                    tracked=tracked, report_id=report_id, reason=reason, at=now, reopened=reopened
                )
            )
            record(
                actor=SYSTEM,
                action="takedown.reported_again",
                target_type="report",
                target_id=tracked.report_id,
                details={
                    "tracked": tracked.pk,
                    "report": str(report_id),
                    "reason": str(reason),
                    "reopened": reopened,
                },
            )
    return made
