"""Retention: destroy what closed reports hold once the policy says it is no longer needed.

Erasure is crypto-shredding. Every sealed value of a report is encrypted under one of two data
keys (contact or content), stored only wrapped in a ``ReportKey`` row; deleting that row makes the
sealed columns, notes, messages and evidence unreadable for good. The ciphertext rows stay (they
are noise without the key) so that counts, states and the audit trail still add up; the evidence
objects are deleted from the store too, to free space, once the erasure has committed.

The clock starts at ``Report.closed_at``; how long each kind of data lives depends on the outcome
(``data/workflow.toml``). Contact details go first; erasing content erases contact with it. A
legal hold suspends both. ``plan`` only reads; ``apply`` re-checks every report under a row lock,
so a report reopened, held or already erased since the plan was made is left alone.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tipline import storage
from tipline.audit.chain import record
from tipline.cases import workflow
from tipline.cases.models import EvidenceFile, Report, ReportKey
from tipline.cases.policies import NotAllowed, ReportPolicy
from tipline.cases.selectors import report_locked
from tipline.cases.states import KeyPurpose, Outcome, ReportState

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

log = logging.getLogger(__name__)

# Only reports that have left the queue are ever erased, whatever their closed_at says.
FINISHED_STATES = (ReportState.ACTIONED, ReportState.CLOSED)
CHUNK = 1000


@dataclass(frozen=True)
class Erasure:
    """What retention will destroy for one report, and since when it has been due."""

    report_id: uuid.UUID
    outcome: str
    closed_at: datetime
    contact: bool
    content: bool
    due_since: datetime

    @property
    def what(self) -> str:
        return "+".join(
            k for k, erase in (("contact", self.contact), ("content", self.content)) if erase
        )


@dataclass(frozen=True)
class Summary:
    contact_erased: int = 0
    content_erased: int = 0
    skipped: int = 0  # no longer due when re-checked (reopened, held, already erased)
    objects_deleted: int = 0  # evidence objects (data and previews) removed after commit

    def as_dict(self) -> dict[str, int]:
        return {
            "contact_erased": self.contact_erased,
            "content_erased": self.content_erased,
            "skipped": self.skipped,
            "objects_deleted": self.objects_deleted,
        }


def _due(now: datetime, kind: str) -> Q:
    """Reports whose ``kind`` ("contact" or "content") retention has run out, as SQL.

    One closed_at cutoff per outcome named in the policy, and the default cutoff for every other
    outcome, so the database does the selection on the closed_at index.
    """
    wf = workflow.load()
    named = [o for o in Outcome.values if o in wf.retention]
    due = Q()
    for outcome in named:
        after: timedelta = getattr(wf.retention_for(outcome), f"{kind}_after")
        due |= Q(outcome=outcome, closed_at__lte=now - after)
    default: timedelta = getattr(wf.retention_for(""), f"{kind}_after")
    return due | (~Q(outcome__in=named) & Q(closed_at__lte=now - default))


def _key_exists(purpose: KeyPurpose) -> Exists:
    return Exists(ReportKey.objects.filter(report_id=OuterRef("pk"), purpose=purpose))


def iter_plan(now: datetime) -> Iterator[Erasure]:
    """Every erasure due at ``now``, oldest closure first, read in chunks (keyset pagination).

    Keyset pages rather than one cursor: ``apply`` may erase the reports of one page before the
    next is read, and nothing is held open between pages.
    """
    wf = workflow.load()
    # Nothing closed after the loosest cutoff is due: a bounded range on the closed_at index.
    # A report whose content is erased holds nothing more. The state is checked per row, not
    # in SQL: given ``state IN (...)`` SQLite picks the queue index and sorts every closed report.
    loosest = min(policy.contact_after for policy in wf.retention.values())
    candidates = Report.objects.filter(
        closed_at__lte=now - loosest, content_erased_at__isnull=True, legal_hold=False
    ).order_by("closed_at", "pk")
    # Two steps per page: walk the index for the next candidates (cheap, always index-ordered),
    # then ask which of them are due. One query doing both leads planners to sort every
    # candidate, and its key look-ups, for each page.
    due = (
        Report.objects.annotate(has_contact=_key_exists(KeyPurpose.CONTACT))
        .alias(has_content=_key_exists(KeyPurpose.CONTENT))
        .annotate(
            contact_due=Q(has_contact=True) & _due(now, "contact"),
            content_due=Q(has_content=True) & _due(now, "content"),
        )
        .filter(Q(contact_due=True) | Q(content_due=True))
        .order_by("closed_at", "pk")
    )
    after = Q()
    while True:
        page = list(candidates.filter(after).values_list("pk", "closed_at")[:CHUNK])
        if not page:
            return
        rows = due.filter(pk__in=[pk for pk, _closed in page]).values_list(
            "pk", "state", "outcome", "closed_at", "has_contact", "contact_due", "content_due"
        )
        for pk, state, outcome, closed_at, has_contact, contact_due, content_due in rows:
            if state not in FINISHED_STATES:
                continue
            assert closed_at is not None  # noqa: S101 - filtered on above; narrows the type
            policy = wf.retention_for(outcome)
            due_since = closed_at + (policy.content_after if content_due else policy.contact_after)
            yield Erasure(
                report_id=pk,
                outcome=outcome,
                closed_at=closed_at,
                contact=bool(contact_due or (content_due and has_contact)),
                content=bool(content_due),
                due_since=due_since,
            )
        last_pk, last_closed = page[-1]
        # The plain lower bound lets the database seek the index; the OR alone would rescan.
        after = Q(closed_at__gte=last_closed) & (
            Q(closed_at__gt=last_closed) | Q(closed_at=last_closed, pk__gt=last_pk)
        )


def plan(now: datetime) -> list[Erasure]:
    return list(iter_plan(now))


def _delete_objects(object_ids: list[str]) -> None:
    for object_id in object_ids:
        try:
            storage.delete_object(object_id)
        except (storage.StorageError, OSError) as exc:
            # The object is ciphertext whose key is gone; a leftover only costs space.
            log.warning("retention could not delete an evidence object: %s", type(exc).__name__)


def _erase_one(erasure: Erasure, *, actor: str, now: datetime) -> tuple[bool, bool, int]:
    """Erase one report in one transaction; returns (contact erased, content erased, objects)."""
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=erasure.report_id).first()
        if (
            report is None
            or report.closed_at is None
            or report.legal_hold
            or report.state not in FINISHED_STATES
        ):
            return False, False, 0
        policy = workflow.load().retention_for(report.outcome)
        keys = set(ReportKey.objects.filter(report=report).values_list("purpose", flat=True))
        content = (
            erasure.content
            and KeyPurpose.CONTENT in keys
            and report.closed_at + policy.content_after <= now
        )
        contact = (
            erasure.contact
            and KeyPurpose.CONTACT in keys
            and (content or report.closed_at + policy.contact_after <= now)
        )
        if not (contact or content):
            return False, False, 0
        purposes = [
            p
            for p, erase in ((KeyPurpose.CONTACT, contact), (KeyPurpose.CONTENT, content))
            if erase
        ]
        ReportKey.objects.filter(report=report, purpose__in=purposes).delete()
        fields = []
        if contact:
            report.contact = None
            report.contact_erased_at = now
            fields += ["contact", "contact_erased_at"]
        object_ids: list[str] = []
        if content:
            report.content_erased_at = now
            fields.append("content_erased_at")
            for data_id, preview_id in EvidenceFile.objects.filter(report=report).values_list(
                "object_id", "preview_object_id"
            ):
                object_ids += [i for i in (data_id, preview_id) if i]
        report.save(update_fields=fields)
        for kind, erased, after in (
            ("contact", contact, policy.contact_after),
            ("content", content, policy.content_after),
        ):
            if erased:
                record(
                    actor=actor,
                    action=f"retention.erase_{kind}",
                    target_type="report",
                    target_id=report.id,
                    details={
                        "outcome": report.outcome,
                        "closed_at": report.closed_at.isoformat(),
                        "policy_days": after.days,
                    },
                )
        if object_ids:
            # Only once the key is gone for good: a rolled-back erasure keeps its evidence.
            transaction.on_commit(lambda: _delete_objects(object_ids))
    return contact, content, len(object_ids)


def apply(erasures: Iterable[Erasure], *, actor: str, now: datetime | None = None) -> Summary:
    """Carry out a plan, one transaction per report, each re-checked under a row lock."""
    now = now or timezone.now()
    counts = Summary().as_dict()
    for erasure in erasures:
        contact, content, objects = _erase_one(erasure, actor=actor, now=now)
        counts["contact_erased"] += int(contact)
        counts["content_erased"] += int(content)
        counts["skipped"] += int(not (contact or content))
        counts["objects_deleted"] += objects
    return Summary(**counts)


def report_set_legal_hold(*, actor: StaffUser, report: Report, hold: bool) -> Report:
    """Set or lift a legal hold: while it is set, retention erases nothing of the report."""
    if not ReportPolicy.may_set_legal_hold(actor):
        raise NotAllowed(_("only supervisors and administrators set legal holds"))
    with transaction.atomic():
        report = report_locked(report)
        if report.legal_hold == hold:
            return report
        report.legal_hold = hold
        report.save(update_fields=["legal_hold"])
        record(
            actor=actor.username,
            action="report.legal_hold",
            target_type="report",
            target_id=report.id,
            details={"hold": hold},
        )
    return report
