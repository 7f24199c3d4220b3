"""Analysts' work on a report that is not a state change: classification, notes and links.

Each is an action in one transaction with its audit entry. Classification is coded (see
``tipline.cases.classification``) and may change only while the report is in review: once a
decision awaits a second analyst, what they confirm must stay what was proposed. Notes are staff
only and sealed under the report's content key, so retention's crypto-shredding erases them with
the report. Links join two reports an analyst judged related; the other report is resolved by the
caller through the access function, so nobody links (or learns of) a report they may not open.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tipline import crypto
from tipline.audit.chain import record
from tipline.cases.classification import VOCABULARIES
from tipline.cases.models import Classification, Note, Report, ReportLink
from tipline.cases.policies import NotAllowed, ReportPolicy
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.selectors import report_locked
from tipline.cases.states import KeyPurpose, ReportState
from tipline.cases.transitions import classification_snapshot
from tipline.crypto.sealed import seal_text

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

NOTE_MAX = 10_000


def classification_set(
    *, actor: StaffUser, report: Report, values: Mapping[str, str]
) -> dict[str, list[str]]:
    """Set the classification fields given (blank clears one). Returns the changes made."""
    for name, value in values.items():
        vocabulary = VOCABULARIES.get(name)
        if vocabulary is None:
            raise ValueError(f"unknown classification field {name!r}")
        if value and value not in vocabulary.values:
            raise ValueError(f"{value!r} is not a {name} code")
    with transaction.atomic():
        report = report_locked(report)
        if report.state != ReportState.IN_REVIEW:
            raise NotAllowed(_("classification can change only while the report is in review"))
        if not ReportPolicy.may_decide(actor, report):
            raise NotAllowed(_("claim the report before classifying it"))
        before = classification_snapshot(report)
        changes = {
            name: [before.get(name, ""), value]
            for name, value in values.items()
            if before.get(name, "") != value
        }
        if not changes:
            return {}
        row = Classification.objects.filter(report=report).first() or Classification(report=report)
        for name, (_old, new) in changes.items():
            setattr(row, name, new)
        row.updated_by = actor
        row.updated_at = timezone.now()
        row.save()
        record(
            actor=actor.username,
            action="report.classify",
            target_type="report",
            target_id=report.id,
            details={"changes": changes},
        )
    return changes


def note_add(*, actor: StaffUser, report: Report, body: str) -> Note:
    if not ReportPolicy.may_annotate(actor):
        raise NotAllowed(_("this role does not write notes"))
    body = body.strip()
    if not body or len(body) > NOTE_MAX:
        raise ValueError("a note has 1 to 10,000 characters")
    try:
        key = report_key(report.id, KeyPurpose.CONTENT)
    except KeyDestroyed:
        raise NotAllowed(_("the report's content was erased under the retention policy")) from None
    note_id = uuid.uuid4()
    note = Note(
        id=note_id,
        report=report,
        author=actor,
        body=seal_text(key, body, context=crypto.context("note", note_id, "body")),
    )
    with transaction.atomic():
        note.save(force_insert=True)
        record(
            actor=actor.username,
            action="report.note",
            target_type="report",
            target_id=report.id,
            details={"note": str(note_id)},
        )
    return note


def _pair(a: Report, b: Report) -> tuple[uuid.UUID, uuid.UUID]:
    if a.pk == b.pk:
        raise NotAllowed(_("a report cannot be linked to itself"))
    return (a.pk, b.pk) if a.pk < b.pk else (b.pk, a.pk)


def report_link(*, actor: StaffUser, report: Report, other: Report) -> bool:
    """Link two reports (both obtained through the access function). False if already linked."""
    if not ReportPolicy.may_annotate(actor):
        raise NotAllowed(_("this role does not link reports"))
    low, high = _pair(report, other)
    with transaction.atomic():
        _link, created = ReportLink.objects.get_or_create(
            low_id=low, high_id=high, defaults={"created_by": actor}
        )
        if created:
            record(
                actor=actor.username,
                action="report.link",
                target_type="report",
                target_id=report.id,
                details={"other": str(other.id)},
            )
    return created


def report_unlink(*, actor: StaffUser, report: Report, other: Report) -> bool:
    if not ReportPolicy.may_annotate(actor):
        raise NotAllowed(_("this role does not link reports"))
    low, high = _pair(report, other)
    with transaction.atomic():
        deleted, _by_model = ReportLink.objects.filter(low_id=low, high_id=high).delete()
        if deleted:
            record(
                actor=actor.username,
                action="report.unlink",
                target_type="report",
                target_id=report.id,
                details={"other": str(other.id)},
            )
    return bool(deleted)
