"""The console's side of issue 15's "decisions with the facts in place": the refusal shown on the
decision form, the note that says what is still unset, and the sextortion/stalking fields with
suggestions from the reporter's answers."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.console.helpers import signed_in
from tipline.cases.models import Classification, Decision, Report
from tipline.cases.states import ReportState

pytestmark = pytest.mark.django_db

AGENCY = "National Police Cybercrime Unit"


def _url(report: Report, action: str = "") -> str:
    return f"/console/reports/{report.id}/{action}"


def test_a_referral_without_classification_is_refused_on_the_form_with_the_reason() -> None:
    report = factories.report("csam").report
    ana, _ = signed_in("ana")
    ana.post(_url(report, "claim/"))
    page = ana.get(_url(report)).content.decode()
    assert 'id="still-to-classify"' in page
    assert "Legal assessment" in page.split('id="still-to-classify"')[1].split("</p>")[0]
    answer = ana.post(_url(report, "decide/"), {"outcome": "referred", "agency": AGENCY})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "Nothing was saved" in text
    assert "Classify the report first" in text
    error = text.split("Nothing was saved")[1].split("</ul>")[0]
    assert "Legal assessment" in error
    assert "Severity (IWF category)" in error
    # The analyst's choices are kept on the form.
    assert re.search(r'<option value="referred" selected>', text)
    assert not Decision.objects.exists()
    # Once classified, the same proposal goes through; the note is gone.
    ana.post(_url(report, "classify/"), {"legal_assessment": "baseline", "severity": "A"})
    assert 'id="still-to-classify"' not in ana.get(_url(report)).content.decode()
    assert (
        ana.post(_url(report, "decide/"), {"outcome": "referred", "agency": AGENCY}).status_code
        == 302
    )
    report.refresh_from_db()
    assert report.state == ReportState.AWAITING_SECOND_REVIEW


def test_sextortion_form_asks_its_own_fields_prefilled_from_the_reporter() -> None:
    report = factories.report(
        "sextortion",
        text="Someone threatens to share pictures unless I pay by tonight.",
        details={
            "platform": "Insta, then by e-mail",
            "demand": "money",
            "victim_age_group": "16-17",
        },
    ).report
    ana, _ = signed_in("ana")
    ana.post(_url(report, "claim/"))
    page = ana.get(_url(report)).content.decode()
    for name in ("platform", "payment_method", "demand", "motive", "victim_age"):
        assert f'name="{name}"' in page
    assert 'name="severity"' not in page
    # Suggested but not saved: marked, described, and nothing is stored until the analyst saves.
    assert re.search(r'<option value="money" selected>', page)
    assert re.search(r'<option value="financial" selected>', page)
    assert re.search(r'<option value="16_17" selected>', page)
    assert 'aria-describedby="id_demand-help"' in page
    assert "Suggested from the reporter" in page
    # Two platforms (Instagram, e-mail) named: no platform is guessed.
    platform = page.split('name="platform"')[1].split("</select>")[0]
    assert " selected>" not in platform.replace('value="" selected>', "")
    assert not Classification.objects.filter(report=report).exists()
    answer = ana.post(
        _url(report, "classify/"),
        {"legal_assessment": "national", "demand": "money", "platform": "snapchat"},
    )
    assert answer.status_code == 302
    row = Classification.objects.get(report=report)
    assert (row.platform, row.demand, row.severity) == ("snapchat", "money", "")


@pytest.mark.parametrize(
    "value", ["Snapchat", "x" * 100_000, "snapchat\x00", "<script>alert(1)</script>", b"%ED%A0%80"]
)
def test_hostile_codes_on_the_new_fields_are_a_form_error(value: str | bytes) -> None:
    report = factories.report("cyberstalking").report
    ana, _ = signed_in("ana")
    ana.post(_url(report, "claim/"))
    if isinstance(value, bytes):  # a lone surrogate written as UTF-8: not text
        answer = ana.post(
            _url(report, "classify/"),
            b"platform=" + value + b"&motive=control",
            content_type="application/x-www-form-urlencoded",
        )
    else:
        answer = ana.post(_url(report, "classify/"), {"platform": value, "motive": "control"})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "Nothing was saved" in text
    assert "<script>alert(1)</script>" not in text
    assert not Classification.objects.filter(report=report).exists()


def test_a_field_the_category_does_not_ask_keeps_its_value_when_the_form_is_saved() -> None:
    report = factories.report("cyberstalking").report
    ana, user = signed_in("ana")
    ana.post(_url(report, "claim/"))
    Classification.objects.create(report=report, severity="C", updated_by=user)
    ana.post(_url(report, "classify/"), {"legal_assessment": "national", "motive": "control"})
    row = Classification.objects.get(report=report)
    assert (row.severity, row.motive, row.legal_assessment) == ("C", "control", "national")
