"""Triage of one report, run by the intake task and again when the reporter adds information.

Decrypts the report's free text and the reporter's messages (inside the worker; nothing leaves
it), records the identifiers it names as keyed digests and links it to reports sharing any,
scores it with the rules and signals, and stores the score (plain: it orders the queue) with
the reasons sealed (they quote the reporter's words). The report's tier and priority become the
score's; the audit log records the score, tier and rule ids, never the words that fired them.

A later score that makes the report more urgent is a rise: the report remembers the tier it rose
from and when (the queue shows it, and the deadline runs from the rise), and a report that had
left the queue (actioned or closed) is re-opened at its new tier, audited as ``report.reopened``
by the system with the reason. The first score is no rise: it replaces the category's default.

An analyst's tier correction on a decision that waits for its second review holds the report's
tier (``transitions.report_decide`` raised it): a re-score then never puts the report below it.
The stored score keeps the machine's own tier, so the case view still shows what the rules and
the model said.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from tipline import crypto
from tipline.audit.chain import SYSTEM, record
from tipline.cases import linking, triage_model
from tipline.cases.models import Decision, EvidenceFile, Message, Report, TriageResult
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.states import DecisionStatus, KeyPurpose, MessageAuthor, ReportState
from tipline.crypto.sealed import open_json, open_text, seal_json
from tipline.matching.models import FileMatch
from tipline.triage import document, engine, identifiers, learned
from tipline.triage.signals import signals_for
from tipline.triage.tiers import Tier
from tipline.triage.types import Score


@dataclass(frozen=True)
class StoredReason:
    """A reason as the case view shows it: where its words are, if it has any."""

    rule: str
    points: int
    detail: str
    quote: str  # the matched words ("" for signals)
    segment: str  # the answer field or "message:<id>" holding them
    start: int  # offsets within that segment
    end: int


@dataclass(frozen=True)
class _Inputs:
    details: dict[str, Any]
    messages: list[tuple[str, str]]  # (message id, body) of the reporter's messages, oldest first
    hashes: list[str]  # the SHA-256 of each file
    known_files: int  # how many of the files matched a hash bank (signal.known_hash)


def _inputs(report: Report, key: bytes) -> _Inputs:
    details: dict[str, Any] = open_json(
        key, report.payload, context=crypto.context("report", report.id, "payload")
    )
    messages = [
        (str(m.id), open_text(key, m.body, context=crypto.context("message", m.id, "body")))
        for m in Message.objects.filter(report=report, author=MessageAuthor.REPORTER).order_by(
            "created_at"
        )
    ]
    # The files and whether each matched a bank in one query: the count of matched files was a
    # query of its own for every triage run, almost always over no files at all (issue 19).
    files = EvidenceFile.objects.filter(report=report).annotate(
        known=Exists(FileMatch.objects.filter(evidence=OuterRef("pk")))
    )
    hashes, known = [], 0
    for f in files.only("id", "meta"):
        hashes.append(
            open_json(key, f.meta, context=crypto.context("file", f.id, "meta"))["sha256"]
        )
        known += bool(f.known)
    return _Inputs(details, messages, hashes, known)


def _stored(score: Score, doc: document.Document) -> list[dict[str, Any]]:
    stored = []
    for reason in score.reasons:
        entry: dict[str, Any] = {
            "rule": reason.rule,
            "points": reason.points,
            "detail": reason.detail,
        }
        if reason.span is not None:
            where = doc.locate(reason.span.start, reason.span.end)
            entry["quote"] = reason.span.text
            if where is not None:
                entry["segment"], entry["start"], entry["end"] = where
        stored.append(entry)
    return stored


def _stored_words(opinion: learned.Opinion | None, doc: document.Document) -> list[dict[str, Any]]:
    """The model's words as reasons of their own ("model.word", no points): sealed like the rest."""
    if opinion is None:
        return []
    stored = []
    for word in opinion.words:
        entry: dict[str, Any] = {
            "rule": MODEL_WORD,
            "points": 0,
            "detail": f"{word.weight:.2f}",
            "quote": word.span.text if word.span else word.ngram,
        }
        if word.span is not None and (where := doc.locate(word.span.start, word.span.end)):
            entry["segment"], entry["start"], entry["end"] = where
        stored.append(entry)
    return stored


MODEL_WORD = "model.word"


def report_triage(report_id: uuid.UUID) -> Score | None:
    """Score and link the report; None if its content was erased meanwhile.

    How many of its files matched a hash bank (``signal.known_hash``) is read with its files.
    """
    try:
        key = report_key(report_id, KeyPurpose.CONTENT)
    except KeyDestroyed:
        return None
    report = Report.objects.get(pk=report_id)
    inputs = _inputs(report, key)
    details, messages, hashes = inputs.details, inputs.messages, inputs.hashes
    doc = document.build(details, messages)
    texts = [details] + [{"what_happened": body} for _mid, body in messages]
    pairs = set().union(*(identifiers.extract(d, hashes) for d in texts))
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report_id)
        linking.identifiers_record(report, pairs)
        linked = linking.linked_report_ids(report)
        score = engine.score(
            doc.text,
            signals=signals_for(
                category=report.category,
                details=details,
                linked_reports=len(linked),
                known_hashes=inputs.known_files,
            ),
        )
        in_use = triage_model.model_in_use()
        opinion = in_use[0].opinion(doc.text, score) if in_use else None
        mode = in_use[1] if in_use else ""
        # Shadow mode records the opinion and leaves the tier alone; on, it may only raise it.
        tier = learned.combine(score.tier, opinion) if mode == "on" else score.tier
        # The report's row is locked (and on SQLite the whole database), so no other triage can
        # insert this row between the update and the insert: one or two statements where
        # update_or_create took six (two savepoints, a locking SELECT, the write), issue 19.
        fields: dict[str, Any] = {
            "score": score.score,
            "tier": tier.value,
            "rules_version": score.rules_version,
            "reasons": seal_json(
                key,
                _stored(score, doc) + _stored_words(opinion, doc),
                context=crypto.context("triage", report.id),
            ),
            "scored_at": timezone.now(),
            "rules_tier": score.tier.value,
            "model_tier": opinion.tier.value if opinion and opinion.tier else "",
            "model_confidence": opinion.confidence if opinion else None,
            "model_mode": mode,
            "model_version": opinion.version if opinion else "",
        }
        first = not TriageResult.objects.filter(report=report).update(**fields)
        if first:
            TriageResult.objects.create(report=report, **fields)
        before = (report.tier, report.priority)
        live = min(tier, _pending_correction(report) or tier)  # "P1" < "P2": the more urgent
        report.tier, report.priority = live.value, score.score
        # The first score replaces the category's default tier: that is no rise.
        reopened = _note_rise(report, before[0]) if not first else None
        report.save(update_fields=[*_RISE_FIELDS, "tier", "priority"])
        record(
            actor=SYSTEM,
            action="report.triaged",
            target_type="report",
            target_id=report.id,
            details={
                "score": score.score,
                "tier": [before[0], live.value],
                "rules": sorted({r.rule for r in score.reasons}),
                "rules_version": score.rules_version,
                "linked": len(linked),
                **(
                    {
                        "model": {
                            "version": opinion.version,
                            "mode": mode,
                            "tier": opinion.tier.value if opinion.tier else "",
                            "rules_tier": score.tier.value,
                        }
                    }
                    if opinion
                    else {}
                ),
            },
        )
        if reopened is not None:
            record(
                actor=SYSTEM,
                action="report.reopened",
                target_type="report",
                target_id=report.id,
                details={
                    "state": [reopened[0], report.state],
                    "outcome": reopened[1],
                    "reason": "tier_raised",
                    "tier": [before[0], report.tier],
                },
            )
    return dataclasses.replace(score, tier=live)


def _pending_correction(report: Report) -> Tier | None:
    """The tier correction of the decision waiting for its second review, if it names one."""
    corrected = (
        Decision.objects.filter(report=report, status=DecisionStatus.PENDING)
        .exclude(right_tier="")
        .values_list("right_tier", flat=True)
        .first()
    )
    return Tier(corrected) if corrected else None


_RISE_FIELDS = (
    "tier_raised_from",
    "tier_raised_at",
    "tier_raise_reopened",
    "state",
    "outcome",
    "closed_at",
    "updated_at",
)
_LEFT_QUEUE = (ReportState.ACTIONED.value, ReportState.CLOSED.value)


def _note_rise(report: Report, before: str) -> tuple[str, str] | None:
    """Record a rise in tier on ``report`` (unsaved); re-open it if it had left the queue.

    New information that makes a report more urgent must reach someone even when the report was
    actioned or closed: it goes back into the queue at its new tier (NEW, or IN_REVIEW when
    someone still holds it). Returns the (state, outcome) it was re-opened from, or None.
    """
    if report.tier >= before:  # "P1" < "P2": a lower string is more urgent
        if report.tier_raised_from and report.tier >= report.tier_raised_from:
            # Scored back down to where it was before the rise: the rise no longer holds.
            report.tier_raised_from, report.tier_raised_at = "", None
            report.tier_raise_reopened = False
        return None
    now = timezone.now()
    report.tier_raised_from, report.tier_raised_at = before, now
    report.tier_raise_reopened = False
    if report.state not in _LEFT_QUEUE:
        return None
    left = (report.state, report.outcome)
    report.state = ReportState.IN_REVIEW if report.assigned_to_id else ReportState.NEW
    report.outcome = ""
    report.closed_at = None
    report.updated_at = now
    report.tier_raise_reopened = True
    return left


def stored_reasons(report: Report, row: TriageResult | None) -> tuple[StoredReason, ...]:
    """The sealed reasons of ``row``, the report's latest score (the case view audits this)."""
    if row is None:
        return ()
    key = report_key(report.id, KeyPurpose.CONTENT)
    entries = open_json(key, row.reasons, context=crypto.context("triage", report.id))
    return tuple(
        StoredReason(
            rule=e["rule"],
            points=e["points"],
            detail=e.get("detail", ""),
            quote=e.get("quote", ""),
            segment=e.get("segment", ""),
            start=e.get("start", 0),
            end=e.get("end", 0),
        )
        for e in entries
    )
