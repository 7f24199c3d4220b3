"""State transitions, the four-eyes rule, classification, notes and links (actions layer)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests import factories
from tipline.audit.chain import verify
from tipline.audit.models import AuditEntry
from tipline.cases import actions, review, selectors, transitions, workflow
from tipline.cases.models import Decision, Note, Referral, Report
from tipline.cases.policies import NotAllowed, ReportPolicy
from tipline.cases.states import DecisionStatus, Outcome, PublicStatus, ReportState

pytestmark = pytest.mark.django_db

AGENCY = "National Police Cybercrime Unit"  # listed in data/workflow.toml


def _people() -> tuple[object, object, object]:
    return (
        factories.staff("ana", "analyst").user,
        factories.staff("ben", "analyst").user,
        factories.staff("sue", "supervisor").user,
    )


def _claimed(category: str = "csam", who: object = None) -> Report:
    report = factories.report(category).report
    return actions.report_claim(actor=who, report=report)  # type: ignore[arg-type]


def _classified(report: Report, who: object, **values: str) -> Report:
    """The facts a referral needs (issue 15): a legal assessment, and the severity for imagery."""
    values = values or (
        {"legal_assessment": "baseline", "severity": "A"}
        if report.category == "csam"
        else {"legal_assessment": "national"}
    )
    review.classification_set(actor=who, report=report, values=values)  # type: ignore[arg-type]
    return report


def _actions_for(report: Report) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_id=str(report.id))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_illegal_referral_waits_for_a_second_analyst_who_is_not_the_proposer() -> None:
    ana, ben, _sue = _people()
    report = _claimed("csam", ana)
    review.classification_set(
        actor=ana,
        report=report,
        values={"legal_assessment": "baseline", "severity": "A", "site_type": "image_host"},
    )
    decision = transitions.report_decide(
        actor=ana, report=report, outcome=Outcome.REFERRED, agency=AGENCY
    )
    report.refresh_from_db()
    assert decision.needs_second_review
    assert decision.status == DecisionStatus.PENDING
    assert report.state == ReportState.AWAITING_SECOND_REVIEW
    assert decision.classification == {
        "legal_assessment": "baseline",
        "severity": "A",
        "site_type": "image_host",
    }
    assert not Referral.objects.exists(), "nothing is referred before the second review"

    with pytest.raises(NotAllowed, match="different analyst"):
        transitions.report_confirm(actor=ana, report=report)
    # Classification is frozen while the decision waits.
    with pytest.raises(NotAllowed):
        review.classification_set(actor=ana, report=report, values={"severity": "B"})

    transitions.report_confirm(actor=ben, report=report)
    report.refresh_from_db()
    decision.refresh_from_db()
    assert report.state == ReportState.ACTIONED
    assert report.outcome == Outcome.REFERRED
    assert report.closed_at is not None
    assert decision.status == DecisionStatus.CONFIRMED
    assert decision.reviewed_by == ben
    assert Referral.objects.get().agency == AGENCY
    assert selectors.reporter_view(report).status == PublicStatus.ACTION_TAKEN
    assert _actions_for(report) == [
        "report.claim",
        "report.classify",
        "report.review_requested",
        "report.decision_confirmed",
    ]
    confirmed = AuditEntry.objects.get(action="report.decision_confirmed")
    assert confirmed.actor == "ben"
    assert confirmed.details["proposed_by"] == "ana"
    assert confirmed.details["state"] == ["awaiting_second_review", "actioned"]
    verify()


def test_a_liaison_sees_only_what_was_referred_to_their_agency() -> None:
    ana, ben, _sue = _people()
    ours = factories.staff("lee", "liaison", agency=AGENCY).user
    theirs = factories.staff("max", "liaison", agency="Border Agency").user
    report = _classified(_claimed("luring", ana), ana)
    other = factories.report("luring").report
    transitions.report_decide(actor=ana, report=report, outcome=Outcome.REFERRED, agency=AGENCY)
    assert list(ReportPolicy.visible(ours)) == [], "not visible before confirmation"
    transitions.report_confirm(actor=ben, report=report)
    assert list(ReportPolicy.visible(ours)) == [report]
    assert other not in ReportPolicy.visible(ours)
    assert list(ReportPolicy.visible(theirs)) == []


def test_a_decision_that_needs_no_second_review_takes_effect_at_once() -> None:
    ana, _ben, _sue = _people()
    report = _claimed("csam", ana)
    review.classification_set(actor=ana, report=report, values={"legal_assessment": "not_illegal"})
    decision = transitions.report_decide(actor=ana, report=report, outcome=Outcome.NOT_ACTIONABLE)
    report.refresh_from_db()
    assert not decision.needs_second_review
    assert decision.status == DecisionStatus.CONFIRMED
    assert (report.state, report.outcome) == (ReportState.CLOSED, Outcome.NOT_ACTIONABLE)
    assert selectors.reporter_view(report).status == PublicStatus.CLOSED
    assert _actions_for(report)[-1] == "report.decided"


def test_four_eyes_is_configured_per_category() -> None:
    ana, _ben, _sue = _people()
    # workflow.toml: cyberstalking needs no second review for an "illegal" assessment...
    report = _claimed("cyberstalking", ana)
    review.classification_set(actor=ana, report=report, values={"legal_assessment": "national"})
    done = transitions.report_decide(actor=ana, report=report, outcome=Outcome.FORWARDED)
    assert not done.needs_second_review
    # ...but the same assessment of abuse material does.
    csam = _claimed("csam", ana)
    _classified(csam, ana, legal_assessment="national", severity="C")
    assert transitions.report_decide(
        actor=ana, report=csam, outcome=Outcome.NOTICE_SENT
    ).status == (DecisionStatus.PENDING)
    rule = workflow.load().four_eyes_for("cyberstalking")
    assert (rule.illegal, rule.referral) == (False, True)


def test_send_back_and_withdraw_return_the_report_to_review() -> None:
    ana, ben, sue = _people()
    report = _classified(_claimed("csam", ana), ana)
    transitions.report_decide(actor=ana, report=report, outcome=Outcome.REFERRED, agency=AGENCY)
    with pytest.raises(NotAllowed):
        transitions.report_send_back(actor=ana, report=report)  # the proposer cannot
    returned = transitions.report_send_back(actor=ben, report=report)
    report.refresh_from_db()
    assert report.state == ReportState.IN_REVIEW
    assert returned.status == DecisionStatus.RETURNED
    transitions.report_decide(actor=ana, report=report, outcome=Outcome.REFERRED, agency=AGENCY)
    with pytest.raises(NotAllowed):
        transitions.report_withdraw(actor=ben, report=report)  # not ben's to withdraw
    transitions.report_withdraw(actor=sue, report=report)  # a supervisor may
    report.refresh_from_db()
    assert report.state == ReportState.IN_REVIEW
    assert [d.status for d in Decision.objects.order_by("proposed_at")] == ["returned", "withdrawn"]


def test_transitions_are_guarded_by_state_and_role() -> None:
    ana, ben, sue = _people()
    auditor = factories.staff("aud", "auditor").user
    new = factories.report("csam").report
    with pytest.raises(NotAllowed):
        transitions.report_decide(actor=ana, report=new, outcome=Outcome.DUPLICATE)
    report = _claimed("csam", ana)
    with pytest.raises(NotAllowed, match="claim"):
        transitions.report_decide(actor=ben, report=report, outcome=Outcome.DUPLICATE)
    with pytest.raises(NotAllowed):
        transitions.report_confirm(actor=ben, report=report)  # nothing pending
    with pytest.raises(NotAllowed):
        review.classification_set(actor=auditor, report=report, values={"severity": "C"})
    with pytest.raises(NotAllowed, match="agency"):
        transitions.report_decide(actor=ana, report=report, outcome=Outcome.REFERRED, agency="X")
    with pytest.raises(NotAllowed, match="agency"):
        transitions.report_decide(
            actor=ana, report=report, outcome=Outcome.DUPLICATE, agency=AGENCY
        )
    # A supervisor may decide a report someone else holds.
    transitions.report_decide(actor=sue, report=report, outcome=Outcome.DUPLICATE)
    with pytest.raises(NotAllowed):
        transitions.report_reopen(actor=ana, report=report)
    transitions.report_reopen(actor=sue, report=report)
    report.refresh_from_db()
    assert (report.state, report.outcome, report.closed_at) == (ReportState.IN_REVIEW, "", None)
    verify()


def test_reopen_is_refused_once_content_is_erased() -> None:
    ana, _ben, sue = _people()
    report = _claimed("other", ana)
    transitions.report_decide(actor=ana, report=report, outcome=Outcome.OUTSIDE_REMIT)
    Report.objects.filter(pk=report.pk).update(content_erased_at=timezone.now())
    with pytest.raises(NotAllowed, match="erased"):
        transitions.report_reopen(actor=sue, report=report)


def test_classification_rejects_unknown_fields_and_codes() -> None:
    ana, _ben, _sue = _people()
    report = _claimed("csam", ana)
    with pytest.raises(ValueError, match="unknown"):
        review.classification_set(actor=ana, report=report, values={"colour": "red"})
    with pytest.raises(ValueError, match="severity"):
        review.classification_set(actor=ana, report=report, values={"severity": "Z"})
    assert review.classification_set(actor=ana, report=report, values={"severity": "C"}) == {
        "severity": ["", "C"]
    }
    # Saving the same values again changes nothing and records nothing.
    assert review.classification_set(actor=ana, report=report, values={"severity": "C"}) == {}
    assert _actions_for(report).count("report.classify") == 1


def test_the_database_refuses_a_reviewer_who_proposed() -> None:
    ana, _ben, _sue = _people()
    report = _claimed("csam", ana)
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            report=report,
            outcome=Outcome.DUPLICATE,
            needs_second_review=True,
            proposed_by=ana,
            reviewed_by=ana,
        )


def test_notes_are_sealed_and_links_join_two_visible_reports() -> None:
    ana, ben, _sue = _people()
    report = _claimed("luring", ana)
    other = factories.report("luring").report
    note = review.note_add(actor=ben, report=report, body="MARKER-note same account as last week")
    assert b"MARKER" not in bytes(Note.objects.get(pk=note.pk).body)
    assert review.report_link(actor=ana, report=report, other=other)
    assert not review.report_link(actor=ben, report=other, other=report), "already linked"
    assert [r.id for r in selectors.linked_reports(other, ReportPolicy.visible(ben))] == [report.id]
    liaison = factories.staff("lee", "liaison", agency=AGENCY).user
    assert selectors.linked_reports(other, ReportPolicy.visible(liaison)) == ()
    with pytest.raises(NotAllowed):
        review.report_link(actor=ana, report=report, other=report)
    assert review.report_unlink(actor=ben, report=other, other=report)
    assert selectors.linked_reports(report, ReportPolicy.visible(ana)) == ()
    assert _actions_for(report)[-2:] == ["report.note", "report.link"]
    unlinked = AuditEntry.objects.get(action="report.unlink")
    assert (unlinked.target_id, unlinked.details) == (str(other.id), {"other": str(report.id)})
    verify()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[retention.default]\ncontact_days=1\ncontent_days=2\n", "four_eyes"),
        (
            "[four_eyes.default]\nillegal=true\nreferral=true\n"
            "[four_eyes.nope]\nillegal=true\nreferral=true\n"
            "[retention.default]\ncontact_days=1\ncontent_days=2\n",
            "no such category",
        ),
        (
            "[four_eyes.default]\nillegal='yes'\nreferral=true\n"
            "[retention.default]\ncontact_days=1\ncontent_days=2\n",
            "true or false",
        ),
        (
            "[four_eyes.default]\nillegal=true\nreferral=true\n"
            "[retention.default]\ncontact_days=9\ncontent_days=2\n",
            "exceeds",
        ),
        (
            "[four_eyes.default]\nillegal=true\nreferral=true\n"
            "[retention.default]\ncontact_days=-1\ncontent_days=2\n",
            "whole numbers",
        ),
        (
            "[four_eyes.default]\nillegal=true\nreferral=true\n"
            "[retention.default]\ncontact_days=1\ncontent_days=2\n[[agencies]]\nname=''\n",
            "agencies",
        ),
        ("four_eyes = [", "not valid TOML"),
        ("[surprise]\n", "unknown table"),
    ],
)
def test_a_malformed_workflow_file_is_refused_with_its_reason(text: str, message: str) -> None:
    with pytest.raises(workflow.WorkflowConfigError, match=message):
        workflow.parse(text)


def test_the_shipped_workflow_file_is_valid() -> None:
    rules = workflow.load()
    assert rules.four_eyes_for("csam").illegal
    assert rules.four_eyes_for("csam").referral
    assert rules.retention_for("referred").content_after.days == 730
    assert AGENCY in rules.agencies
