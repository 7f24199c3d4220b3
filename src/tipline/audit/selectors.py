"""Reading the audit log newest first, a page at a time (keyset on ``seq``: no OFFSET)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from tipline.audit.models import AuditEntry

PAGE_SIZE = 100


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""  # exact action, or a prefix ending in "." ("report." = every report action)
    target_id: str = ""
    # A report's whole trail: entries about the report, and about its files (whose details name
    # the report). The file half reads the details JSON; a case trail is short, so it is cheap.
    report: str = ""


@dataclass(frozen=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]
    next_before: int | None  # pass as ``before`` for the next (older) page


def audit_page(filters: AuditFilters, *, before: int | None = None) -> AuditPage:
    entries = AuditEntry.objects.all()
    if filters.actor:
        entries = entries.filter(actor=filters.actor)
    if filters.action.endswith("."):
        entries = entries.filter(action__startswith=filters.action)
    elif filters.action:
        entries = entries.filter(action=filters.action)
    if filters.target_id:
        entries = entries.filter(target_id=filters.target_id)
    if filters.report:
        entries = entries.filter(
            Q(target_type="report", target_id=filters.report)
            | Q(target_type="file", details__report=filters.report)
        )
    if before is not None:
        entries = entries.filter(seq__lt=before)
    found = list(entries.order_by("-seq")[: PAGE_SIZE + 1])
    shown = tuple(found[:PAGE_SIZE])
    return AuditPage(entries=shown, next_before=shown[-1].seq if len(found) > PAGE_SIZE else None)
