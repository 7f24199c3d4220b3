"""Reports linked by the identifiers they share, and the clusters those links form.

Identifiers are stored only as keyed digests (``tipline.crypto.identifier_digest`` over the
canonical forms of ``tipline.triage.identifiers``): the link table says *that* two reports name
the same account, never *which* account. Finding a new report's neighbours is one lookup on the
``(digest, report)`` index per digest, so it stays fast with millions of identifiers.

A cluster is the connected component of a report over shared identifiers and analysts' manual
links (``ReportLink``). It is computed breadth-first within the reports the viewer may see, and
never passes *through* a report they may not see: otherwise a liaison would learn that two of
their reports are connected by one they cannot open. Splitting a report off marks its identifiers
``detached`` (kept, so recording them again does not re-link it) and removes its manual links.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.dispatch import Signal
from django.utils.translation import gettext as _

from tipline import crypto
from tipline.audit.chain import record
from tipline.cases.models import Report, ReportIdentifier, ReportLink
from tipline.cases.policies import NotAllowed, ReportPolicy

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

CLUSTER_LIMIT = 500

# Sent (inside the caller's transaction) each time a report's identifiers have been recorded, with
# ``report_id``. STYLE.md keeps logic out of signals, and this one carries none: it exists because
# the layers forbid ``cases`` to name what sits above it. ``tipline.takedown`` listens, to re-open
# tracking of an address or file reported again (``takedown/reappearance.py``).
identifiers_recorded = Signal()


def identifiers_record(report: Report, pairs: Iterable[tuple[str, str]]) -> int:
    """Store the report's ``(kind, canonical)`` identifiers as digests. Returns how many.

    A system step (intake processing), so no audit entry. Idempotent: identifiers already
    recorded are left as they are, including their ``detached`` mark.
    """
    rows = [
        ReportIdentifier(
            report_id=report.pk, kind=kind, digest=crypto.identifier_digest(kind, canonical)
        )
        for kind, canonical in sorted(set(pairs))
    ]
    if rows:
        with transaction.atomic():
            ReportIdentifier.objects.bulk_create(rows, ignore_conflicts=True)
            identifiers_recorded.send(sender=ReportIdentifier, report_id=report.pk)
    return len(rows)


def _live(report_ids: Iterable[uuid.UUID]) -> QuerySet[ReportIdentifier]:
    return ReportIdentifier.objects.filter(report_id__in=report_ids, detached=False)


def linked_report_ids(report: Report) -> set[uuid.UUID]:
    """Every other report sharing at least one identifier with this one (detached ones aside)."""
    digests = _live([report.pk]).values("digest")
    return set(
        ReportIdentifier.objects.filter(digest__in=digests, detached=False)
        .exclude(report_id=report.pk)
        .values_list("report_id", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class TimelineEntry:
    created_at: datetime
    report_id: uuid.UUID
    category: str
    state: str


@dataclass(frozen=True)
class Cluster:
    report_ids: frozenset[uuid.UUID]
    size: int
    first_at: datetime
    last_at: datetime
    timeline: list[TimelineEntry]  # oldest first
    # Identifiers that at least two reports of the cluster share, counted by kind; manual
    # links within the cluster are counted under "link".
    shared_kinds: dict[str, int]
    truncated: bool  # the component has more reports than the limit allowed


def _neighbours(
    frontier: list[uuid.UUID],
    seen: set[uuid.UUID],
    seen_digests: set[str],
    visible: QuerySet[Report],
    budget: int,
) -> list[uuid.UUID]:
    """Up to ``budget`` unseen visible reports one step from the frontier."""
    digests = set(_live(frontier).values_list("digest", flat=True)) - seen_digests
    seen_digests |= digests
    found: dict[uuid.UUID, None] = {}  # an ordered set
    if digests:
        shared = (
            ReportIdentifier.objects.filter(
                digest__in=digests, detached=False, report_id__in=visible.values("pk")
            )
            .exclude(report_id__in=seen)
            .values_list("report_id", flat=True)
            .distinct()[: budget + 1]
        )
        found.update(dict.fromkeys(shared))
    links = ReportLink.objects.filter(Q(low_id__in=frontier) | Q(high_id__in=frontier))
    by_hand = {pk for pair in links.values_list("low_id", "high_id") for pk in pair}
    by_hand -= seen | found.keys()
    if by_hand:
        found.update(dict.fromkeys(visible.filter(pk__in=by_hand).values_list("pk", flat=True)))
    return list(found)[: budget + 1]


def cluster_of(report: Report, visible: QuerySet[Report], limit: int = CLUSTER_LIMIT) -> Cluster:
    """The report's connected component among ``visible`` reports, at most ``limit`` of them.

    ``report`` itself comes from the access function, so it is always in its own cluster.
    """
    seen: set[uuid.UUID] = {report.pk}
    seen_digests: set[str] = set()
    frontier = [report.pk]
    truncated = False
    while frontier:
        budget = limit - len(seen)
        step = _neighbours(frontier, seen, seen_digests, visible, budget)
        if len(step) > budget:
            step, truncated = step[:budget], True
        seen.update(step)
        frontier = step
    rows = (
        Report.objects.filter(pk__in=seen)
        .order_by("created_at", "id")
        .values_list("created_at", "id", "category", "state")
    )
    timeline = [TimelineEntry(*row) for row in rows]
    shared = (
        _live(seen)
        .values("kind", "digest")
        .annotate(reports=Count("report_id", distinct=True))
        .filter(reports__gte=2)
    )
    shared_kinds: dict[str, int] = {}
    for row in shared:
        shared_kinds[row["kind"]] = shared_kinds.get(row["kind"], 0) + 1
    links = ReportLink.objects.filter(low_id__in=seen, high_id__in=seen).count()
    if links:
        shared_kinds["link"] = links
    return Cluster(
        report_ids=frozenset(seen),
        size=len(seen),
        first_at=timeline[0].created_at,
        last_at=timeline[-1].created_at,
        timeline=timeline,
        shared_kinds=shared_kinds,
        truncated=truncated,
    )


@dataclass(frozen=True)
class SplitResult:
    identifiers: int  # identifiers detached
    links: int  # manual links removed


def cluster_split(*, actor: StaffUser, report: Report) -> SplitResult:
    """Take the report out of its cluster: detach its identifiers and drop its manual links.

    The audit entry carries counts only; which identifiers they were is not for the log.
    """
    if not ReportPolicy.may_annotate(actor):
        raise NotAllowed(_("this role does not link reports"))
    with transaction.atomic():
        detached = ReportIdentifier.objects.filter(report=report, detached=False).update(
            detached=True
        )
        removed, _by_model = ReportLink.objects.filter(Q(low=report) | Q(high=report)).delete()
        if detached or removed:
            record(
                actor=actor.username,
                action="report.cluster_split",
                target_type="report",
                target_id=report.id,
                details={"identifiers": detached, "links": removed},
            )
    return SplitResult(identifiers=detached, links=removed)
