"""The learned triage model's life: trained from analysts' decisions, sealed, switched, retrained.

Labels. A report an analyst has finished (actioned or closed, its content not erased) teaches the
model the tier the analyst said it should have had, when the decision that closed it carries a
tier correction (``Decision.right_tier``, issue 20). Without one it teaches the tier it finished
at (a raise by new information included), except that a report closed as not actionable or
outside the remit teaches P4 (its urgency was not real). A duplicate teaches nothing, corrected or
not (its original does). Training decrypts each report's text here, in the process
that trains (the CLI or the retention task in the worker); no text is written anywhere, and the
result is only the model's arrays.

Sealing. The arrays hold n-grams that occurred in at least three reports (``learned.MIN_DF``), so
they are sealed under a data key of the model's own, wrapped by the KEK (the same machinery as a
report's keys, contexts from ``crypto.context``). Training replaces the model and deletes the old
row with its wrapped key, which destroys it. Nothing exports the model: no command, page or API
returns its bytes.

Use. A new model runs in shadow mode (its opinion recorded, the tier unchanged) until an
administrator switches it on (``model_set_mode``, audited ``triage.model_mode``); when on it can
only raise a tier (``learned.combine``).

The starter. Until the installation has trained a model of its own, ``model_in_use`` gives the
starter model (``triage.starter``: learned from the team's own written sentences, no report
content, so nothing to seal or retrain) in mode "on": it may raise a tier from the first report.
An administrator switches it off (``starter_set``, audited ``triage.starter``). Once the
installation trains its own model, that model replaces the starter whatever its mode (shadow
included): the installation's model learned from this hotline's reports and analysts, and the
administrator who trained it is comparing it with the rules, which a second opinion running
beside it would blur. The two are not combined: the starter's words are the team's, its
figures are on written sentences, and an installation with enough decisions has better evidence.

Retention. A model that learned from a report whose content has since been erased would keep
something of that report. ``retrain_after_erasure`` (run by the retention run after it erases)
trains a new model from what remains, or destroys the model when too little remains.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from tipline import crypto
from tipline.audit.chain import SYSTEM, record
from tipline.cases.models import (
    Decision,
    ModelMode,
    Report,
    ReportKey,
    TriageModel,
    TriageModelSetting,
    TriageModelSource,
)
from tipline.cases.policies import NotAllowed
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.states import DecisionStatus, KeyPurpose, MessageAuthor, Outcome, ReportState
from tipline.crypto.box import KEK_ID
from tipline.crypto.sealed import open_json, open_text
from tipline.staff.models import Role
from tipline.triage import document, engine, evaluate, learned, starter
from tipline.triage.signals import signals_for
from tipline.triage.tiers import Tier

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

log = logging.getLogger(__name__)

CLI = "cli"
FINISHED = (ReportState.ACTIONED, ReportState.CLOSED)
# Outcomes saying the report's urgency was not real: they teach the least urgent tier.
NOT_URGENT = (Outcome.NOT_ACTIONABLE, Outcome.OUTSIDE_REMIT)
BATCH = 500


@dataclass(frozen=True)
class Decided:
    """One finished report as training data: its id, when it was closed, text and label."""

    report_id: uuid.UUID
    closed_at: datetime
    example: learned.TrainingExample


def label_of(report: Report, correction: str = "") -> Tier | None:
    """What a finished report teaches; ``correction`` is its closing decision's ``right_tier``."""
    if report.outcome == Outcome.DUPLICATE or not report.outcome:
        return None
    if correction:
        return Tier(correction)
    if report.outcome in NOT_URGENT:
        return Tier.P4
    return Tier(report.tier)


# The tier correction of the decision that closed the report: its latest confirmed decision (a
# reopened report decided again has a newer one).
_closing_correction = (
    Decision.objects.filter(report=OuterRef("pk"), status=DecisionStatus.CONFIRMED)
    .order_by("-proposed_at", "-id")
    .values("right_tier")[:1]
)


def decided_reports(*, before: datetime | None = None) -> Iterator[Decided]:
    """Every finished report with readable content, oldest closure first, decrypted one by one."""
    rules = engine.load()
    reports = (
        Report.objects.filter(state__in=FINISHED, content_erased_at__isnull=True)
        .exclude(outcome__in=("", Outcome.DUPLICATE))
        .filter(Q(closed_at__lt=before) if before else Q())
        .exclude(closed_at__isnull=True)
        .annotate(correction=Subquery(_closing_correction))
        .order_by("closed_at", "id")
    )
    for report in reports.iterator(chunk_size=BATCH):
        label = label_of(report, report.correction or "")
        if label is None:
            continue
        try:
            key = report_key(report.id, KeyPurpose.CONTENT)
        except KeyDestroyed:
            continue
        text, details = _text_of(report, key)
        score = rules.score(text, signals=signals_for(category=report.category, details=details))
        assert report.closed_at is not None  # noqa: S101 - filtered above
        yield Decided(report.id, report.closed_at, learned.TrainingExample(text, score, label))


def _text_of(report: Report, key: bytes) -> tuple[str, dict[str, Any]]:
    details: dict[str, Any] = open_json(
        key, report.payload, context=crypto.context("report", report.id, "payload")
    )
    messages = [
        (str(m.id), open_text(key, m.body, context=crypto.context("message", m.id, "body")))
        for m in report.messages.filter(author=MessageAuthor.REPORTER).order_by("created_at")
    ]
    return document.build(details, messages).text, details


# --- training ----------------------------------------------------------------------------------


def model_train(
    *,
    actor: str,
    min_class: int = learned.MIN_CLASS,
    reason: str = "trained",
    keep_mode: bool = False,
    progress: Callable[[int], None] | None = None,
) -> TriageModel:
    """Train a model on every decided report and put it in place of the current one.

    Raises ``learned.TrainingRefused`` when too few decisions exist; the current model then stays.
    A model trained by a person starts in shadow mode; a retrain by retention keeps the mode.
    """
    decided: list[Decided] = []
    for item in decided_reports():
        decided.append(item)
        if progress is not None and len(decided) % 1000 == 0:
            progress(len(decided))
    model_id = uuid.uuid4()
    trained = learned.train(
        [d.example for d in decided], version=str(model_id)[:8], min_class=min_class
    )
    used = set(trained.classes)
    sources = [d.report_id for d in decided if d.example.label in used]
    classes = {str(t): sum(1 for d in decided if d.example.label == t) for t in used}
    key = crypto.new_data_key()
    row = TriageModel(
        id=model_id,
        wrapped_key=crypto.wrap_data_key(key, context=crypto.context("triage-model", model_id)),
        kek_id=KEK_ID,
        sealed=crypto.seal(
            key, trained.to_bytes(), context=crypto.context("triage-model", model_id, "arrays")
        ),
        version=trained.version,
        trained_on=len(sources),
        classes=classes,
        min_class=min_class,
    )
    with transaction.atomic():
        replaced = list(TriageModel.objects.values_list("version", flat=True))
        TriageModel.objects.all().delete()  # the old wrapped key goes with it: destroyed
        row.save(force_insert=True)
        TriageModelSource.objects.bulk_create(
            (TriageModelSource(model=row, report_id=r) for r in sources), batch_size=2000
        )
        setting = _setting_locked()
        mode_before = setting.mode
        if not keep_mode and setting.mode == ModelMode.ON:
            setting.mode, setting.changed_at = ModelMode.SHADOW, timezone.now()
            setting.save(update_fields=["mode", "changed_at"])
        record(
            actor=actor,
            action="triage.model_trained",
            target_type="triage_model",
            target_id=row.version,
            details={
                "reason": reason,
                "reports": len(sources),
                "classes": classes,
                "replaced": replaced,
                "mode": [mode_before, setting.mode],
            },
        )
    return row


def retrain_after_erasure() -> str:
    """Train anew when the model learned from a report whose content is erased since.

    Returns what happened: "none" (no model), "clean" (nothing it learned from is erased),
    "retrained", or "destroyed" (too little left to train: the model is deleted, and with it
    the only key that opens it).
    """
    row = TriageModel.objects.only("id", "version", "min_class").first()
    if row is None:
        return "none"
    erased = (
        TriageModelSource.objects.filter(model=row)
        .filter(
            Q(report__content_erased_at__isnull=False)
            | ~Q(
                report__in=ReportKey.objects.filter(purpose=KeyPurpose.CONTENT).values("report_id")
            )
        )
        .count()
    )
    if not erased:
        return "clean"
    try:
        model_train(actor=SYSTEM, min_class=row.min_class, reason="sources_erased", keep_mode=True)
    except learned.TrainingRefused:
        with transaction.atomic():
            TriageModel.objects.filter(pk=row.pk).delete()
            record(
                actor=SYSTEM,
                action="triage.model_destroyed",
                target_type="triage_model",
                target_id=row.version,
                details={"reason": "sources_erased", "erased": erased},
            )
        _cache.clear()
        return "destroyed"
    return "retrained"


# --- the switch --------------------------------------------------------------------------------


def _setting_locked() -> TriageModelSetting:
    TriageModelSetting.objects.get_or_create(pk=1)
    return TriageModelSetting.objects.select_for_update().get(pk=1)


def model_mode() -> str:
    row = TriageModelSetting.objects.filter(pk=1).values_list("mode", flat=True).first()
    return row or ModelMode.SHADOW


def may_switch(user: StaffUser | None) -> bool:
    """Administrators switch the model (None: the command line, run by the machine's operator)."""
    return user is None or (user.is_active and user.role == Role.ADMIN)


def model_set_mode(*, actor: StaffUser | None, mode: str) -> str:
    """Switch how the model is used (off, shadow, on); audited even when nothing changes."""
    if not may_switch(actor):
        raise NotAllowed("only administrators switch the triage model")
    if mode not in ModelMode.values:
        raise ValueError(f"mode must be one of {', '.join(ModelMode.values)}")
    before: str = _switch(actor, "mode", mode, action="triage.model_mode", target_id="setting")
    return before


def starter_enabled() -> bool:
    row = TriageModelSetting.objects.filter(pk=1).values_list("starter", flat=True).first()
    return True if row is None else bool(row)


def starter_set(*, actor: StaffUser | None, on: bool) -> bool:
    """Switch the starter model on or off; audited even when nothing changes. Returns before."""
    if not may_switch(actor):
        raise NotAllowed("only administrators switch the starter model")
    before = _switch(actor, "starter", on, action="triage.starter", target_id="starter", key="on")
    return bool(before)


def _switch(
    actor: StaffUser | None,
    field: str,
    value: Any,
    *,
    action: str,
    target_id: str,
    key: str | None = None,
) -> Any:
    """Set one field of the setting row under its lock and audit before -> after (``key``: the
    name in the audit details, the field's by default)."""
    with transaction.atomic():
        setting = _setting_locked()
        before = getattr(setting, field)
        setattr(setting, field, value)
        setting.changed_at = timezone.now()
        setting.save(update_fields=[field, "changed_at"])
        record(
            actor=actor.username if actor is not None else CLI,
            action=action,
            target_type="triage_model",
            target_id=target_id,
            details={key or field: [before, value]},
        )
    return before


# --- the model in use --------------------------------------------------------------------------


class _Cache:
    """The opened model of this process, by row id (a new row is a new model)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._id: uuid.UUID | None = None
        self._model: learned.Model | None = None

    def get(self, row_id: uuid.UUID) -> learned.Model:
        with self._lock:
            if self._id != row_id or self._model is None:
                row = TriageModel.objects.get(pk=row_id)
                self._model = open_model(row)
                self._id = row_id
            return self._model

    def clear(self) -> None:
        with self._lock:
            self._id, self._model = None, None


_cache = _Cache()


def open_model(row: TriageModel) -> learned.Model:
    """Unwrap the model's key and read its arrays (in memory only)."""
    key = crypto.unwrap_data_key(
        bytes(row.wrapped_key), context=crypto.context("triage-model", row.id)
    )
    data = crypto.open_sealed(
        key, bytes(row.sealed), context=crypto.context("triage-model", row.id, "arrays")
    )
    return learned.Model.from_bytes(data)


def model_in_use() -> tuple[learned.Model, str] | None:
    """The model and its mode, or None when there is none or it is off.

    Without a model of the installation's own, the starter model (when switched on) in mode "on".
    """
    # One query for the model's id and the mode (every triage run asks, issue 19).
    row = (
        TriageModel.objects.order_by("id")
        .values_list("id", Subquery(TriageModelSetting.objects.filter(pk=1).values("mode")[:1]))
        .first()
    )
    if row is None:
        found = starter.model() if starter_enabled() else None
        return (found, ModelMode.ON) if found is not None else None
    row_id, mode = row[0], row[1] or ModelMode.SHADOW
    if mode == ModelMode.OFF:
        return None
    try:
        return _cache.get(row_id), mode
    except (TriageModel.DoesNotExist, crypto.DecryptionError, KeyDestroyed, ValueError):
        # Replaced meanwhile, or unreadable: triage goes on with the rules alone.
        log.warning("the triage model could not be opened; scoring with the rules alone")
        return None


# --- evaluation on a time-based split ------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    cut: datetime  # trained on reports closed before, evaluated on those closed from then on
    trained_on: int
    reports: dict[str, evaluate.Report]  # "rules", "model", "combined"


def compare(*, train_share: float = 0.8, min_class: int = learned.MIN_CLASS) -> Comparison:
    """Train on the earlier decisions and compare rules, model and both on the later ones.

    A time-based split, not a random one: a model is always used on reports that arrive after
    the ones it learned from, and a random split would let it see tomorrow's campaigns. The model
    trained here is thrown away; the one in use is not touched.
    """
    decided = list(decided_reports())
    cut_at = int(len(decided) * train_share)
    if cut_at == 0 or cut_at == len(decided):
        raise learned.TrainingRefused("too few decided reports to split by time")
    train_part, test_part = decided[:cut_at], decided[cut_at:]
    model = learned.train([d.example for d in train_part], version="eval", min_class=min_class)
    examples = [
        evaluate.Example(text=d.example.text, tier=d.example.label, lang=None, line=number)
        for number, d in enumerate(test_part, start=1)
    ]
    opinions = [model.opinion(d.example.text, d.example.rules) for d in test_part]
    least = model.classes[-1]
    tiers = {
        "rules": [d.example.rules.tier for d in test_part],
        "model": [o.tier or least for o in opinions],
        "combined": [
            learned.combine(d.example.rules.tier, o)
            for d, o in zip(test_part, opinions, strict=True)
        ],
    }
    reports = {}
    for name, predicted in tiers.items():
        # The tiers are already known, in the examples' order: the scorer hands them back.
        answers = iter(predicted)

        def scorer(_text: str, _lang: str | None, answers: Iterator[Tier] = answers) -> Tier:
            return next(answers)

        reports[name] = evaluate.evaluate(examples, scorer)
    return Comparison(cut=test_part[0].closed_at, trained_on=model.trained_on, reports=reports)
