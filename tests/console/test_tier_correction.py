"""The analyst's tier correction (issue 20): the "right tier" on the decision form, stored with the
decision, audited, shown in the case history, the learned model's label, and what it does (and
never does) to the live queue."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.console.helpers import signed_in
from tipline.audit.chain import verify
from tipline.audit.models import AuditEntry
from tipline.cases import transitions, triage_model
from tipline.cases.models import Decision, Report
from tipline.cases.states import Outcome, ReportState
from tipline.cases.tasks import triage_report
from tipline.triage.tiers import Tier

pytestmark = pytest.mark.django_db

AGENCY = "National Police Cybercrime Unit"


def _url(report: Report, action: str = "") -> str:
    return f"/console/reports/{report.id}/{action}"


def _selected(page: str) -> str:
    """The value the right-tier select shows as chosen ("" when none is marked)."""
    select = re.search(r'<select name="right_tier".*?</select>', page, re.S)
    assert select is not None, "the decision form has no right-tier field"
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
    return chosen.group(1) if chosen else ""


def test_the_form_round_trip_without_javascript_stores_audits_shows_and_labels() -> None:
    report = factories.report(text="He sends messages every night.").report
    tier_before = Report.objects.get(pk=report.pk).tier
    ana, _ = signed_in("ana")
    ana.post(_url(report, "claim/"))
    page = ana.get(_url(report)).content.decode()
    assert "Right tier" in page
    assert "Leave as triaged" in page
    assert _selected(page) == "", "the default is to leave the tier as triaged"
    assert 'aria-describedby="id_right_tier-help"' in page
    assert 'id="id_right_tier-help"' in page
    # A form error keeps the chosen tier: the analyst does not choose it twice.
    answer = ana.post(_url(report, "decide/"), {"outcome": "", "right_tier": "P1"})
    assert answer.status_code == 400
    assert _selected(answer.content.decode()) == "P1"
    assert not Decision.objects.filter(report=report).exists()

    answer = ana.post(_url(report, "decide/"), {"outcome": "not_actionable", "right_tier": "P2"})
    assert answer.status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.CLOSED
    # A closed report keeps its place: the correction teaches, it does not reorder.
    assert (report.tier, report.tier_raised_from) == (tier_before, "")
    assert Decision.objects.get(report=report).right_tier == "P2"
    entry = AuditEntry.objects.get(action="report.decided", target_id=str(report.id))
    assert entry.details["right_tier"] == "P2"
    assert "tier" not in entry.details
    verify()
    # Shown in the case history and in the case's audit trail, in words.
    page = ana.get(_url(report)).content.decode()
    assert "Right tier: P2." in page
    root, _ = signed_in("root", "admin")  # the case audit trail is for administrators
    assert "(right tier: P2)" in root.get(_url(report, "audit/")).content.decode()
    # The correction is the label, over "not actionable teaches P4".
    labels = {d.report_id: d.example.label for d in triage_model.decided_reports()}
    assert labels == {report.id: Tier.P2}


def test_leaving_it_as_triaged_stores_nothing_and_labels_as_before() -> None:
    report = factories.report().report
    ana, _ = signed_in("ana")
    ana.post(_url(report, "claim/"))
    assert ana.post(_url(report, "decide/"), {"outcome": "not_actionable"}).status_code == 302
    assert Decision.objects.get(report=report).right_tier == ""
    entry = AuditEntry.objects.get(action="report.decided", target_id=str(report.id))
    assert entry.details["right_tier"] is None
    labels = {d.report_id: d.example.label for d in triage_model.decided_reports()}
    assert labels == {report.id: Tier.P4}


@pytest.mark.parametrize(
    "value",
    [
        "P0",
        "p1",
        "P1 ",
        "P5",
        "1",
        "P1' OR '1'='1",
        "<script>alert(1)</script>",
        "x" * 5000,
        "P\x001",
    ],
)
def test_hostile_values_are_refused_and_change_nothing(value: str) -> None:
    report = factories.report().report
    ana, _ = signed_in("ana")
    ana.post(_url(report, "claim/"))
    answer = ana.post(_url(report, "decide/"), {"outcome": "not_actionable", "right_tier": value})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "Choose a tier from the list." in text
    assert "<script>alert(1)</script>" not in text
    report.refresh_from_db()
    assert report.state == ReportState.IN_REVIEW
    assert not Decision.objects.filter(report=report).exists()
    assert not AuditEntry.objects.filter(action="report.decided").exists()


def test_the_action_refuses_a_tier_that_is_not_one() -> None:
    report = factories.report().report
    ana, user = signed_in("ana")
    ana.post(_url(report, "claim/"))
    with pytest.raises(ValueError, match="P9"):
        transitions.report_decide(
            actor=user,
            report=report,
            outcome=Outcome.NOT_ACTIONABLE,
            right_tier="P9",  # type: ignore[arg-type]  # what a careless caller might pass
        )
    assert not Decision.objects.filter(report=report).exists()


def _pending_referral(right_tier: str) -> tuple[Report, object]:
    report = factories.report("csam").report  # P3 by default, untriaged
    ana, _ = signed_in("ana")
    ben, _ = signed_in("ben")
    ana.post(_url(report, "claim/"))
    ana.post(_url(report, "classify/"), {"legal_assessment": "baseline", "severity": "B"})
    answer = ana.post(
        _url(report, "decide/"), {"outcome": "referred", "agency": AGENCY, "right_tier": right_tier}
    )
    assert answer.status_code == 302
    report.refresh_from_db()
    assert report.state == ReportState.AWAITING_SECOND_REVIEW
    return report, ben


def test_a_more_urgent_correction_raises_an_open_report_like_new_information() -> None:
    report, ben = _pending_referral("P1")
    assert (report.tier, report.tier_raised_from) == ("P1", "P3")
    assert report.tier_raised_at is not None
    assert not report.tier_raise_reopened
    entry = AuditEntry.objects.get(action="report.review_requested", target_id=str(report.id))
    assert entry.details["right_tier"] == "P1"
    assert entry.details["tier"] == ["P3", "P1"]
    assert "Right tier: P1." in ben.get(_url(report)).content.decode()  # type: ignore[attr-defined]
    # A re-score while the decision waits (the reporter wrote again) never goes below it.
    triage_report.call(str(report.id))
    report.refresh_from_db()
    assert report.tier == "P1"
    assert report.triage.tier != "P1", "the stored score keeps the machine's own tier"
    assert ben.post(_url(report, "confirm/")).status_code == 302  # type: ignore[attr-defined]
    report.refresh_from_db()
    assert report.state == ReportState.ACTIONED
    confirmed = AuditEntry.objects.get(action="report.decision_confirmed")
    assert confirmed.details["right_tier"] == "P1"
    labels = {d.report_id: d.example.label for d in triage_model.decided_reports()}
    assert labels == {report.id: Tier.P1}
    verify()


def test_a_less_urgent_correction_never_lowers_an_open_report() -> None:
    report, _ben = _pending_referral("P4")
    assert (report.tier, report.tier_raised_from) == ("P3", "")
    entry = AuditEntry.objects.get(action="report.review_requested", target_id=str(report.id))
    assert entry.details["right_tier"] == "P4"
    assert "tier" not in entry.details


def test_the_label_is_the_closing_decision_and_a_duplicate_teaches_nothing() -> None:
    ana, user = signed_in("ana")
    reports = []
    for outcome, right in ((Outcome.DUPLICATE, Tier.P1), (Outcome.NOT_ACTIONABLE, None)):
        report = factories.report().report
        ana.post(_url(report, "claim/"))
        transitions.report_decide(actor=user, report=report, outcome=outcome, right_tier=right)
        reports.append(report)
    # Reopened and decided again: the newer decision's correction is the label.
    _sue, boss = signed_in("sue", "supervisor")
    first = reports[1]
    transitions.report_reopen(actor=boss, report=first)
    transitions.report_decide(
        actor=user, report=first, outcome=Outcome.NOT_ACTIONABLE, right_tier=Tier.P3
    )
    labels = {d.report_id: d.example.label for d in triage_model.decided_reports()}
    assert labels == {first.id: Tier.P3}
