"""The receipt page's help: what happens next, how soon, and the help that fits the report."""

from __future__ import annotations

import datetime
from datetime import timedelta

import pytest
from django.test import Client

from tipline.cases import categories
from tipline.guidance import after_report
from tipline.guidance.datafile import GuidanceDataError

REPORT = {
    "what_happened": "Someone I met in a game says they will post my photos unless I pay them.",
    "contact_choice": "anonymous",
    "child_location": "At the park behind the school",
    "emergency_called": "no",
    "urls": "https://example.org/x",
}


def _receipt_page(client: Client, category: str, country: str = "") -> str:
    data = {**REPORT, **({"country": country} if country else {})}
    response = client.post(f"/en/report/{category}/", data)
    assert response.status_code == 200, response.content.decode()[:3000]
    return response.content.decode()


def test_every_category_has_advice_and_every_service_a_source() -> None:
    table = after_report.load()
    assert table.advice.keys() == {c.code for c in categories.CATEGORIES}
    for service in table.services:
        assert service.source.startswith("https://")
        assert service.checked <= datetime.date.today()


def test_the_wait_comes_from_the_tier_deadlines() -> None:
    assert after_report.for_report("child_in_danger").wait == timedelta(hours=1)
    assert after_report.for_report("child_in_danger").wait_days == 0
    assert after_report.for_report("other").wait_days == 30


def test_services_follow_the_country() -> None:
    gb = {s.key for s in after_report.for_report("sextortion", "GB").services}
    fr = {s.key for s in after_report.for_report("sextortion", "FR").services}
    assert gb == {"take_it_down", "report_remove", "stopncii"}
    assert fr == {"take_it_down", "stopncii"}
    assert after_report.for_report("csam", "GB").services == ()


@pytest.mark.django_db
def test_sextortion_says_not_your_fault_do_not_pay_and_where_to_stop_the_images(
    client: Client,
) -> None:
    page = _receipt_page(client, "sextortion", "GB")
    assert "This is not your fault" in page
    assert "Do not pay" in page
    assert "Do not delete the chat" in page
    assert "https://takeitdown.ncmec.org/" in page
    assert "Report Remove" in page
    assert "https://stopncii.org/" in page
    assert "within 24 hours" in page or "within 1 hour" in page


@pytest.mark.django_db
def test_intimate_images_get_the_services_but_no_payment_advice(client: Client) -> None:
    page = _receipt_page(client, "ncii", "FR")
    assert "This is not your fault" in page
    assert "Do not pay" not in page
    assert "StopNCII.org" in page
    assert "Report Remove" not in page  # a UK service


@pytest.mark.django_db
def test_a_child_in_danger_gets_the_country_emergency_number_before_the_receipt(
    client: Client,
) -> None:
    page = _receipt_page(client, "child_in_danger", "GB")
    emergency = page.index('href="tel:999"')
    assert emergency < page.index('id="receipt"')
    assert "within 1 hour" in page


@pytest.mark.django_db
def test_cyberstalking_offers_the_evidence_locker(client: Client) -> None:
    page = _receipt_page(client, "cyberstalking")
    assert 'href="/en/locker/"' in page
    assert "Stop the images from spreading" not in page


@pytest.mark.django_db
def test_material_online_gets_no_victim_advice(client: Client) -> None:
    page = _receipt_page(client, "csam")
    assert "This is not your fault" not in page
    assert "within 7 days" in page  # the category's default tier, P3


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("services: {}\ncategories: {nope: {}}\n", 2, "not a report category"),
        (
            "services:\n  x:\n    name: X\n    url: https://x.org/\n    for: kids\n",
            5,
            "must be one",
        ),
        ("services: {}\ncategories: {csam: {pay: true}}\n", 2, "unknown field"),
    ],
)
def test_a_mistake_in_the_data_file_names_the_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(GuidanceDataError) as caught:
        after_report.parse("after_report.yaml", text)
    assert f":{line}:" in str(caught.value)
    assert reason in str(caught.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"), [("fr", "Ce n\u2019est pas votre faute"), ("hi", "यह आपकी गलती नहीं है")]
)
def test_the_help_is_translated(client: Client, language: str, words: str) -> None:
    response = client.post(f"/{language}/report/sextortion/", REPORT)
    assert response.status_code == 200
    assert words in response.content.decode()
