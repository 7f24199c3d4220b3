"""State transitions of a report, one guarded action each, and the four-eyes rule.

    new --claim--> in review --decide--> actioned | closed            (no second review needed)
                   in review --decide--> awaiting second review       (four eyes)
    awaiting second review --confirm--> actioned | closed             (a different analyst)
    awaiting second review --send back / withdraw--> in review
    actioned | closed --reopen--> in review                           (supervisors; not once erased)

Claiming lives in ``tipline.cases.actions``. Every action here re-reads the report under a row
lock, checks the state it starts from, checks the acting person against ``ReportPolicy``, makes
the change and writes its audit entry in one transaction, so two people pressing buttons at once
cannot both win and nothing changes without its record.

Which decisions need four eyes is data (``data/workflow.toml``): per category, a decision that
content is illegal (legal assessment baseline or national) and a referral to law enforcement.
The classification the proposer decided on is stored with the decision; the reviewer confirms
exactly that (classification cannot change while the decision waits).

Facts before decisions (issue 15): a decision that asserts illegality (a referral, a takedown
notice, a forward, or any decision on content assessed as illegal) is refused while the
classification lacks what ``data/classification.toml`` asks for it — the legal assessment at
least, and the severity for abuse imagery. The rule is here, in the action, so the console, the
API and the CLI refuse alike; ``ClassificationIncomplete`` names the missing fields.

A tier correction (issue 20): with a decision the analyst may say which tier the report should
have had (``right_tier``). It is stored with the decision, audited, and becomes the learned
model's label once the decision takes effect (``triage_model.label_of``). A decision that takes
effect at once closes the report, and the correction changes nothing in the queue. A decision that
waits for a second analyst leaves the report open: a correction *more urgent* than its tier then
raises it as new information does (``tier_raised_from``/``tier_raised_at``, the deadline runs from
the rise), so the second review is not left waiting at the old urgency, and a re-score while the
decision waits never goes below it (``triage_step``). A less urgent correction never lowers the
live tier: only a confirmed decision takes a report out of the queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tipline.audit.chain import record
from tipline.cases import classification_rules, workflow
from tipline.cases.classification import FIELD_LABELS, ILLEGAL, VOCABULARIES
from tipline.cases.models import Agency, Classification, Decision, Referral, Report
from tipline.cases.policies import NotAllowed, ReportPolicy
from tipline.cases.selectors import report_locked
from tipline.cases.states import DecisionStatus, Outcome, ReportState, state_for
from tipline.triage.tiers import Tier

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser


class ClassificationIncomplete(NotAllowed):
    """A decision that asserts illegality, proposed or confirmed before the facts are set."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = tuple(missing)
        names = ", ".join(str(FIELD_LABELS[name]) for name in missing)
        super().__init__(
            _("classify the report first (not set yet: %(fields)s)") % {"fields": names}
        )


def require_classification(*, category: str, outcome: str, classification: dict[str, str]) -> None:
    missing = classification_rules.missing_for(
        category=category, outcome=outcome, classification=classification
    )
    if missing:
        raise ClassificationIncomplete(missing)


def _require_state(report: Report, *states: ReportState) -> None:
    if report.state not in states:
        raise NotAllowed(
            _("not possible while the report is “%(state)s”")
            % {"state": ReportState(report.state).label}
        )


def classification_snapshot(report: Report) -> dict[str, str]:
    """The report's current classification codes (only the fields that are set)."""
    row = Classification.objects.filter(report_id=report.pk).first()
    if row is None:
        return {}
    return {name: getattr(row, name) for name in VOCABULARIES if getattr(row, name)}


def needs_second_review(*, category: str, outcome: Outcome, classification: dict[str, str]) -> bool:
    rule = workflow.load().four_eyes_for(category)
    if rule.referral and outcome == Outcome.REFERRED:
        return True
    return rule.illegal and classification.get("legal_assessment") in ILLEGAL


def agency_choices() -> list[str]:
    """Where a report may be referred: the agencies administrators manage (``Agency`` rows),
    those still listed in workflow.toml (seeded into the table by migration 0007) and those of
    liaison accounts."""
    from tipline.staff.models import Role, StaffUser

    liaisons = StaffUser.objects.filter(role=Role.LIAISON, is_active=True).values_list(
        "agency", flat=True
    )
    managed = Agency.objects.filter(active=True).values_list("name", flat=True)
    return sorted(set(workflow.load().agencies) | set(managed) | {a for a in liaisons if a})


def _pending(report: Report) -> Decision:
    decision = (
        Decision.objects.select_for_update()
        .filter(report=report, status=DecisionStatus.PENDING)
        .first()
    )
    if decision is None:  # the state says otherwise only if someone edited the database
        raise NotAllowed(_("no decision is waiting for review"))
    return decision


def _conclude(report: Report, decision: Decision, *, actor: StaffUser) -> dict[str, Any]:
    """Apply a confirmed decision: the report leaves the queue. Returns audit details."""
    before = report.state
    outcome = Outcome(decision.outcome)
    now = timezone.now()
    report.state = state_for(outcome)
    report.outcome = outcome
    report.closed_at = now
    report.updated_at = now
    report.save(update_fields=["state", "outcome", "closed_at", "updated_at"])
    if outcome == Outcome.REFERRED:
        Referral.objects.get_or_create(
            report=report, agency=decision.agency, defaults={"decision": decision}
        )
    return {
        "state": [before, report.state],
        "outcome": outcome.value,
        "agency": decision.agency or None,
        "decision": str(decision.id),
        "classification": decision.classification,
        "proposed_by": decision.proposed_by.username,
        "confirmed_by": actor.username if decision.needs_second_review else None,
        "right_tier": decision.right_tier or None,
    }


def report_decide(
    *,
    actor: StaffUser,
    report: Report,
    outcome: Outcome,
    agency: str = "",
    right_tier: Tier | None = None,
) -> Decision:
    """Propose an outcome. Without a four-eyes rule it takes effect at once.

    ``right_tier`` is the analyst's tier correction (None: leave as triaged); see the module's
    docstring for what it does to a report that stays open.
    """
    outcome = Outcome(outcome)
    corrected = Tier(right_tier) if right_tier is not None else None  # ValueError if not a tier
    agency = agency.strip()
    if outcome == Outcome.REFERRED and agency not in agency_choices():
        raise NotAllowed(_("choose the agency to refer to from the list"))
    if outcome != Outcome.REFERRED and agency:
        raise NotAllowed(_("an agency is named only for a referral"))
    with transaction.atomic():
        report = report_locked(report)
        _require_state(report, ReportState.IN_REVIEW)
        if not ReportPolicy.may_decide(actor, report):
            raise NotAllowed(_("claim the report before deciding it"))
        snapshot = classification_snapshot(report)
        require_classification(category=report.category, outcome=outcome, classification=snapshot)
        four_eyes = needs_second_review(
            category=report.category, outcome=outcome, classification=snapshot
        )
        decision = Decision.objects.create(
            report=report,
            outcome=outcome,
            agency=agency,
            classification=snapshot,
            needs_second_review=four_eyes,
            status=DecisionStatus.PENDING if four_eyes else DecisionStatus.CONFIRMED,
            proposed_by=actor,
            right_tier=corrected.value if corrected else "",
        )
        if four_eyes:
            tier_before = report.tier
            report.state = ReportState.AWAITING_SECOND_REVIEW
            report.updated_at = timezone.now()
            fields = ["state", "updated_at"]
            if corrected is not None and corrected.value < report.tier:  # "P1" < "P2": more urgent
                # The report stays open: it rises to the correction as it would on new
                # information, so its second review is not left waiting at the old urgency.
                report.tier_raised_from, report.tier_raised_at = report.tier, report.updated_at
                report.tier_raise_reopened = False
                report.tier = corrected.value
                fields += ["tier", "tier_raised_from", "tier_raised_at", "tier_raise_reopened"]
            report.save(update_fields=fields)
            record(
                actor=actor.username,
                action="report.review_requested",
                target_type="report",
                target_id=report.id,
                details={
                    "state": [ReportState.IN_REVIEW.value, report.state],
                    "decision": str(decision.id),
                    "outcome": outcome.value,
                    "agency": agency or None,
                    "classification": snapshot,
                    "right_tier": decision.right_tier or None,
                    **({"tier": [tier_before, report.tier]} if report.tier != tier_before else {}),
                },
            )
        else:
            details = _conclude(report, decision, actor=actor)
            record(
                actor=actor.username,
                action="report.decided",
                target_type="report",
                target_id=report.id,
                details=details,
            )
    return decision


def report_confirm(*, actor: StaffUser, report: Report) -> Decision:
    """The second analyst confirms the pending decision; the report is actioned or closed."""
    with transaction.atomic():
        report = report_locked(report)
        _require_state(report, ReportState.AWAITING_SECOND_REVIEW)
        decision = _pending(report)
        if not ReportPolicy.may_review(actor, decision.proposed_by_id):
            raise NotAllowed(_("a different analyst must confirm this decision"))
        if classification_snapshot(report) != decision.classification:
            raise NotAllowed(_("the classification changed after the decision was proposed"))
        # A decision proposed before this rule existed is not confirmed on an empty classification.
        require_classification(
            category=report.category,
            outcome=decision.outcome,
            classification=decision.classification,
        )
        decision.status = DecisionStatus.CONFIRMED
        decision.reviewed_by = actor
        decision.reviewed_at = timezone.now()
        decision.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        details = _conclude(report, decision, actor=actor)
        record(
            actor=actor.username,
            action="report.decision_confirmed",
            target_type="report",
            target_id=report.id,
            details=details,
        )
    return decision


def _back_to_review(
    *, actor: StaffUser, report: Report, status: DecisionStatus, action: str
) -> Decision:
    with transaction.atomic():
        report = report_locked(report)
        _require_state(report, ReportState.AWAITING_SECOND_REVIEW)
        decision = _pending(report)
        if status == DecisionStatus.RETURNED:
            allowed = ReportPolicy.may_review(actor, decision.proposed_by_id)
            refusal = _("the proposer withdraws a decision; a different analyst sends it back")
        else:
            allowed = actor.pk == decision.proposed_by_id or ReportPolicy.may_reopen(actor)
            refusal = _("only the analyst who proposed it (or a supervisor) withdraws a decision")
        if not allowed:
            raise NotAllowed(refusal)
        decision.status = status
        decision.reviewed_by = actor if status == DecisionStatus.RETURNED else None
        decision.reviewed_at = timezone.now()
        decision.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        report.state = ReportState.IN_REVIEW
        report.updated_at = timezone.now()
        report.save(update_fields=["state", "updated_at"])
        record(
            actor=actor.username,
            action=action,
            target_type="report",
            target_id=report.id,
            details={
                "state": [ReportState.AWAITING_SECOND_REVIEW.value, report.state],
                "decision": str(decision.id),
                "outcome": decision.outcome,
            },
        )
    return decision


def report_send_back(*, actor: StaffUser, report: Report) -> Decision:
    """The second analyst disagrees: the report returns to review (say why in a note)."""
    return _back_to_review(
        actor=actor,
        report=report,
        status=DecisionStatus.RETURNED,
        action="report.decision_returned",
    )


def report_withdraw(*, actor: StaffUser, report: Report) -> Decision:
    """The proposer (or a supervisor) takes a pending decision back."""
    return _back_to_review(
        actor=actor,
        report=report,
        status=DecisionStatus.WITHDRAWN,
        action="report.decision_withdrawn",
    )


def report_reopen(*, actor: StaffUser, report: Report) -> Report:
    """A supervisor returns an actioned or closed report to review (a referral stays on record)."""
    if not ReportPolicy.may_reopen(actor):
        raise NotAllowed(_("only supervisors and administrators reopen reports"))
    with transaction.atomic():
        report = report_locked(report)
        _require_state(report, ReportState.ACTIONED, ReportState.CLOSED)
        if report.content_erased_at is not None:
            raise NotAllowed(_("the report's content was erased under the retention policy"))
        before, outcome = report.state, report.outcome
        report.state = ReportState.IN_REVIEW
        report.outcome = ""
        report.closed_at = None
        report.updated_at = timezone.now()
        report.save(update_fields=["state", "outcome", "closed_at", "updated_at"])
        record(
            actor=actor.username,
            action="report.reopened",
            target_type="report",
            target_id=report.id,
            details={"state": [before, report.state], "outcome": outcome},
        )
    return report
