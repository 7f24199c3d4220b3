"""Reporter satisfaction: anonymous, skippable, sealed comments, counted without opening them."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.console.helpers import signed_in
from tipline.audit.models import AuditEntry
from tipline.metrics import satisfaction
from tipline.metrics.models import SatisfactionAnswer
from tipline.metrics.period import make

pytestmark = pytest.mark.django_db

COMMENT = "The form was clear but I was worried about my phone."


def _today() -> object:
    today = timezone.now().date()
    return make(today, today)


def test_receipt_page_offers_the_questions_after_the_emergency_guidance() -> None:
    client = Client()
    page = client.get("/en/report/child_in_danger/")
    token = re.search(rb'name="submission" value="([^"]+)"', page.content)
    assert token
    sent = client.post(
        "/en/report/child_in_danger/",
        {
            "what_happened": "A child said an adult is hurting them at home.",
            "submission": token[1].decode(),
        },
    )
    html = sent.content.decode()
    assert sent.status_code == 200
    assert 'id="satisfaction"' in html
    assert 'name="stage" value="submitted"' in html
    assert 'name="category" value="child_in_danger"' in html
    if "now-title" in html:  # the emergency guidance comes first
        assert html.index("now-title") < html.index('id="satisfaction"')
    assert "receipt" not in html[html.index('id="satisfaction"') :].split("</form>")[0].replace(
        "receipt-", ""
    ), "the feedback form carries nothing that identifies the report"


def test_answers_are_kept_without_any_identifier_and_the_comment_is_sealed() -> None:
    client = Client()
    response = client.post(
        "/en/feedback/",
        {
            "category": "sextortion",
            "stage": "submitted",
            "easy": "5",
            "safe": "",
            "next_steps": "2",
            "comment": COMMENT,
        },
    )
    assert response.status_code == 303
    assert client.get(response["Location"]).status_code == 200
    answer = SatisfactionAnswer.objects.get()
    assert (answer.category, answer.stage, answer.easy, answer.safe, answer.next_steps) == (
        "sextortion",
        "submitted",
        5,
        None,
        2,
    )
    assert COMMENT.encode() not in bytes(answer.comment)
    fields = {f.name for f in SatisfactionAnswer._meta.get_fields()}
    assert fields == {
        "id",
        "category",
        "stage",
        "day",
        "easy",
        "safe",
        "next_steps",
        "comment",
        "comment_key",
    }
    dist = {d.question: d for d in satisfaction.distributions(_today())}
    assert dist["easy"].counts == (0, 0, 0, 0, 1)
    assert dist["safe"].skipped == 1


def test_skipping_everything_keeps_nothing() -> None:
    response = Client().post("/en/feedback/", {"category": "other", "stage": "closed"})
    assert response.status_code == 303
    assert not SatisfactionAnswer.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"category": "other", "stage": "closed", "easy": "6"},
        {"category": "other", "stage": "closed", "easy": "0"},
        {"category": "other", "stage": "closed", "easy": "1; DROP TABLE"},
        {"category": "nope", "stage": "closed", "easy": "3"},
        {"category": "other", "stage": "later", "easy": "3"},
        {"category": "other", "stage": "closed", "comment": "x" * 5000},
        {},
    ],
)
def test_hostile_answers_are_refused_and_nothing_is_kept(data: dict[str, str]) -> None:
    response = Client().post("/en/feedback/", data)
    assert response.status_code == 400
    assert not SatisfactionAnswer.objects.exists()


def test_a_lone_surrogate_or_broken_utf8_is_refused() -> None:
    response = Client().generic(
        "POST",
        "/en/feedback/",
        b"category=other&stage=closed&comment=%ED%A0%80&easy=%FF",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    for answer in SatisfactionAnswer.objects.all():
        assert answer.easy is None


def test_comments_are_for_supervisors_and_reading_them_is_audited() -> None:
    satisfaction.answer_record(
        category="other", stage="closed", easy=None, safe=4, next_steps=None, comment=COMMENT
    )
    supervisor, _s = signed_in("sue", "supervisor")
    page = supervisor.get("/console/metrics/comments/")
    assert COMMENT in page.content.decode()
    assert AuditEntry.objects.filter(action="satisfaction.read_comments").count() == 1
    dashboard = supervisor.get("/console/metrics/").content.decode()
    assert 'id="sec-satisfaction"' in dashboard
    auditor, _a = signed_in("aud", "auditor")
    assert auditor.get("/console/metrics/comments/").status_code == 404
    assert COMMENT not in auditor.get("/console/metrics/").content.decode()
    analyst, _n = signed_in("ana", "analyst")
    assert 'id="sec-satisfaction"' not in analyst.get("/console/metrics/").content.decode()


def test_followup_page_asks_once_the_report_is_closed() -> None:
    from tipline.cases import actions, transitions
    from tipline.cases.states import Outcome

    created = factories.report("cyberstalking")
    client = Client()
    first = client.post("/en/follow-up/", {"receipt": created.receipt}).content.decode()
    assert 'id="satisfaction"' not in first
    ana = factories.staff("ana2", "analyst").user
    report = actions.report_claim(actor=ana, report=created.report)
    transitions.report_decide(actor=ana, report=report, outcome=Outcome.NOT_ACTIONABLE)
    later = client.post("/en/follow-up/", {"receipt": created.receipt}).content.decode()
    assert 'name="stage" value="closed"' in later
