"""Facts before decisions, the sextortion and stalking codes, and suggestions from the reporter's
answers (issue 15). Actions layer: the console, the API and the CLI all go through these."""

from __future__ import annotations

import pytest

from tests import factories
from tipline.audit.models import AuditEntry
from tipline.cases import actions, classification_rules, review, transitions
from tipline.cases.classification import FIELD_LABELS, VOCABULARIES
from tipline.cases.models import Classification, Decision, Report
from tipline.cases.states import DecisionStatus, Outcome, ReportState

pytestmark = pytest.mark.django_db

AGENCY = "National Police Cybercrime Unit"


def _claimed(category: str) -> tuple[Report, object]:
    ana = factories.staff("ana").user
    report = actions.report_claim(actor=ana, report=factories.report(category).report)
    return report, ana


@pytest.mark.parametrize(
    ("outcome", "agency"),
    [(Outcome.REFERRED, AGENCY), (Outcome.NOTICE_SENT, ""), (Outcome.FORWARDED, "")],
)
def test_an_outcome_that_asserts_illegality_needs_the_legal_assessment(
    outcome: Outcome, agency: str
) -> None:
    report, ana = _claimed("luring")
    with pytest.raises(transitions.ClassificationIncomplete) as refused:
        transitions.report_decide(actor=ana, report=report, outcome=outcome, agency=agency)  # type: ignore[arg-type]
    assert refused.value.missing == ("legal_assessment",)
    assert "Legal assessment" in str(refused.value)
    report.refresh_from_db()
    assert report.state == ReportState.IN_REVIEW
    assert not Decision.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="report.decided").exists()
    assert not AuditEntry.objects.filter(action="report.review_requested").exists()


def test_abuse_imagery_assessed_illegal_also_needs_the_severity() -> None:
    report, ana = _claimed("csam")
    review.classification_set(actor=ana, report=report, values={"legal_assessment": "baseline"})  # type: ignore[arg-type]
    with pytest.raises(transitions.ClassificationIncomplete) as refused:
        transitions.report_decide(  # type: ignore[arg-type]
            actor=ana, report=report, outcome=Outcome.REFERRED, agency=AGENCY
        )
    assert refused.value.missing == ("severity",)
    # Even a duplicate, once the content is assessed illegal, asserts it: the severity is needed.
    with pytest.raises(transitions.ClassificationIncomplete):
        transitions.report_decide(actor=ana, report=report, outcome=Outcome.DUPLICATE)  # type: ignore[arg-type]
    review.classification_set(actor=ana, report=report, values={"severity": "B"})  # type: ignore[arg-type]
    decision = transitions.report_decide(  # type: ignore[arg-type]
        actor=ana, report=report, outcome=Outcome.REFERRED, agency=AGENCY
    )
    assert decision.status == DecisionStatus.PENDING
    assert decision.classification == {"legal_assessment": "baseline", "severity": "B"}


def test_content_assessed_not_illegal_needs_no_severity_and_closing_needs_nothing() -> None:
    report, ana = _claimed("csam")
    review.classification_set(actor=ana, report=report, values={"legal_assessment": "not_illegal"})  # type: ignore[arg-type]
    assert (
        classification_rules.missing_for(
            category="csam",
            outcome=Outcome.NOTICE_SENT,
            classification={"legal_assessment": "not_illegal"},
        )
        == []
    )
    closed = transitions.report_decide(actor=ana, report=report, outcome=Outcome.NOT_ACTIONABLE)  # type: ignore[arg-type]
    assert closed.status == DecisionStatus.CONFIRMED
    # A duplicate asserts nothing: no classification needed.
    fresh = actions.report_claim(actor=ana, report=factories.report("csam").report)  # type: ignore[arg-type]
    assert transitions.report_decide(actor=ana, report=fresh, outcome=Outcome.DUPLICATE)  # type: ignore[arg-type]


def test_a_pending_decision_without_its_facts_is_not_confirmed() -> None:
    """A decision proposed before the rule existed (written straight to the table here)."""
    report, ana = _claimed("luring")
    ben = factories.staff("ben").user
    Decision.objects.create(
        report=report,
        outcome=Outcome.REFERRED,
        agency=AGENCY,
        classification={},
        needs_second_review=True,
        status=DecisionStatus.PENDING,
        proposed_by=ana,
    )
    Report.objects.filter(pk=report.pk).update(state=ReportState.AWAITING_SECOND_REVIEW)
    with pytest.raises(transitions.ClassificationIncomplete):
        transitions.report_confirm(actor=ben, report=report)
    report.refresh_from_db()
    assert report.state == ReportState.AWAITING_SECOND_REVIEW


def test_sextortion_and_stalking_codes_are_stored_and_audited() -> None:
    report, ana = _claimed("sextortion")
    values = {
        "legal_assessment": "national",
        "platform": "instagram",
        "payment_method": "gift_card",
        "demand": "money",
        "motive": "financial",
        "victim_age": "13_15",
    }
    changes = review.classification_set(actor=ana, report=report, values=values)  # type: ignore[arg-type]
    assert changes == {name: ["", code] for name, code in values.items()}
    row = Classification.objects.get(report=report)
    assert (row.platform, row.payment_method, row.motive, row.victim_age) == (
        "instagram",
        "gift_card",
        "financial",
        "13_15",
    )
    assert AuditEntry.objects.get(action="report.classify").details["changes"]["demand"] == [
        "",
        "money",
    ]
    decision = transitions.report_decide(  # type: ignore[arg-type]
        actor=ana, report=report, outcome=Outcome.REFERRED, agency=AGENCY
    )
    assert decision.classification["platform"] == "instagram"


@pytest.mark.parametrize(
    "value",
    ["Instagram", "instagram ", "x" * 5000, "gift_card\x00", "' OR 1=1 --", "\ud800", "1"],
)
def test_new_fields_refuse_anything_but_their_codes(value: str) -> None:
    report, ana = _claimed("cyberstalking")
    with pytest.raises(ValueError, match="platform"):
        review.classification_set(actor=ana, report=report, values={"platform": value})  # type: ignore[arg-type]
    assert not Classification.objects.filter(report=report).exists()


def test_every_field_has_a_label_and_every_listed_field_exists() -> None:
    rules = classification_rules.load()
    assert set(FIELD_LABELS) == set(VOCABULARIES)
    assert {"platform", "payment_method", "demand", "motive", "victim_age"} <= set(
        rules.fields_for("sextortion")
    )
    assert {"platform", "demand", "motive", "victim_age"} <= set(rules.fields_for("cyberstalking"))
    assert "platform" not in rules.fields_for("csam")
    assert rules.needs_for("csam").if_illegal == ("severity",)


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        (
            {"victim_age_group": "13-15", "demand": "money", "platform": "He found me on Insta"},
            {
                "victim_age": "13_15",
                "demand": "money",
                "motive": "financial",
                "platform": "instagram",
            },
        ),
        # Two platforms named: no guess.
        ({"platform": "Snapchat then WhatsApp"}, {}),
        # Whole words only: "big" is not "ig", "instagrammer" is not Instagram.
        ({"platform": "a big forum for instagrammers"}, {}),
        # "I don't know" answers suggest nothing; unknown or hostile answers are ignored.
        ({"victim_age_group": "unknown", "demand": "unknown"}, {}),
        ({"victim_age_group": ["13-15"], "demand": {"x": 1}, "platform": 7}, {}),
        ({"platform": "discord " + "a" * 100_000}, {"platform": "discord"}),
        ({"platform": "\ud800 roblox <script>"}, {"platform": "roblox"}),
    ],
)
def test_suggestions_come_from_the_reporters_answers(
    details: dict[str, object], expected: dict[str, str]
) -> None:
    assert classification_rules.suggestions("sextortion", details, {}) == expected


def test_suggestions_never_override_a_set_code_or_a_field_the_category_does_not_ask() -> None:
    details = {"victim_age_group": "6-12", "demand": "images", "platform": "tiktok"}
    assert classification_rules.suggestions("sextortion", details, {"platform": "discord"}) == {
        "victim_age": "6_12",
        "demand": "images",
        "motive": "sexual",
    }
    assert classification_rules.suggestions("csam", details, {}) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[decision]\nasserting_outcomes=[]\n", "fields"),
        ("[fields]\ndefault=['colour']\n", "no classification field"),
        ("[fields]\ndefault=['severity']\nnope=['severity']\n", "no such category"),
        ("[fields]\ndefault=['severity','severity']\n", "twice"),
        (
            "[fields]\ndefault=['severity']\n[decision]\nasserting_outcomes=['eaten']\nneeds={}\n",
            "outcome",
        ),
        (
            "[fields]\ndefault=['severity']\n[decision]\nasserting_outcomes=[]\n"
            "[decision.needs.default]\nalways=['severity']\n",
            "always and if_illegal",
        ),
        (
            "[fields]\ndefault=['severity']\n[decision]\nasserting_outcomes=[]\n"
            "[decision.needs.default]\nalways=[]\nif_illegal=[]\n"
            "[[prefill]]\nfield='platform'\nanswer='platform'\ncodes={a='nowhere'}\n",
            "not a platform code",
        ),
        (
            "[fields]\ndefault=['severity']\n[decision]\nasserting_outcomes=[]\n"
            "[decision.needs.default]\nalways=[]\nif_illegal=[]\n"
            "[[prefill]]\nfield='platform'\nanswer='platform'\ncodes={a='x'}\nwords={x=['x']}\n",
            "exactly one",
        ),
        ("fields = [", "not valid TOML"),
        ("[surprise]\n", "unknown table"),
    ],
)
def test_a_malformed_classification_file_is_refused_with_its_reason(
    text: str, message: str
) -> None:
    with pytest.raises(classification_rules.ClassificationConfigError, match=message):
        classification_rules.parse(text)
