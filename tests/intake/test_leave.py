"""Quick exit from the receipt page: Back and "resend" on the reporter's device must show neither
the receipt nor which form was used (issue 13). The report itself is never filed twice."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from tipline.cases.models import Report

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="submission" value="([^"]+)"')
ANSWERS = {
    "what_happened": "Someone says they will share my pictures unless I pay by tonight.",
    "contact_choice": "anonymous",
}


def _sent(client: Client) -> tuple[dict[str, str], str]:
    form = client.get("/en/report/sextortion/").content.decode()
    data = {**ANSWERS, "submission": TOKEN.search(form).group(1)}  # type: ignore[union-attr]
    first = client.post("/en/report/sextortion/", data)
    assert first.status_code == 200
    page = first.content.decode()
    assert 'id="receipt"' in page
    assert 'action="/en/leave/"' in page  # the receipt page's quick exit tells the server
    return data, page


def test_resending_right_after_sending_shows_the_receipt_again(client: Client) -> None:
    data, _page = _sent(client)
    again = client.post("/en/report/sextortion/", data).content.decode()
    assert 'id="receipt"' in again
    assert Report.objects.count() == 1


def test_after_quick_exit_a_resent_form_shows_no_receipt_and_no_category(client: Client) -> None:
    data, _page = _sent(client)
    left = client.post("/en/leave/", {"submission": data["submission"]})
    assert left.status_code == 303
    assert left["Location"] == settings.TIPLINE_QUICK_EXIT_URL
    again = client.post("/en/report/sextortion/", data)
    assert again.status_code == 303
    assert again["Location"] == "/en/sent/"
    shown = client.get(again["Location"])
    page = shown.content.decode()
    assert shown.status_code == 200
    assert 'id="receipt"' not in page
    assert "This was already sent" in page
    for telling in ("Sextortion", "sextortion", "not your fault", "Do not pay"):
        assert telling not in page
    assert Report.objects.count() == 1


def test_the_beacon_is_answered_without_a_body(client: Client) -> None:
    data, _page = _sent(client)
    beacon = client.post("/en/leave/", {"submission": data["submission"], "beacon": "1"})
    assert beacon.status_code == 204
    assert client.post("/en/report/sextortion/", data)["Location"] == "/en/sent/"


@pytest.mark.parametrize(
    "body", [{}, {"submission": ""}, {"submission": "x" * 5000}, {"submission": "\x00"}]
)
def test_a_hostile_or_empty_leave_still_leaves(client: Client, body: dict[str, str]) -> None:
    left = client.post("/en/leave/", body)
    assert left.status_code == 303
    assert left["Location"] == settings.TIPLINE_QUICK_EXIT_URL


def test_get_on_leave_leaves_too(client: Client) -> None:
    left = client.get("/en/leave/")
    assert left.status_code == 303


# The home page's category buttons (intake/views.start): the form opens at /<lang>/report/, and
# once a report was filed with the choice's token, the choice sent again leads to the start page.

HOME_TOKEN = re.compile(r'<input type="hidden" name="submission" value="([^"]+)">')


def _choice(client: Client, code: str = "sextortion") -> dict[str, str]:
    home = client.get("/en/").content.decode()
    assert f'name="category" value="{code}"' in home
    assert 'action="/en/report/"' in home
    return {"choose": "1", "category": code, "submission": HOME_TOKEN.search(home).group(1)}  # type: ignore[union-attr]


def test_the_category_choice_opens_the_form_at_an_address_that_names_no_category(
    client: Client,
) -> None:
    choice = _choice(client)
    page = client.post("/en/report/", choice)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Sextortion" in html
    assert f'name="submission" value="{choice["submission"]}"' in html
    assert '<input type="hidden" name="category" value="sextortion">' in html
    sent = client.post(
        "/en/report/", {**ANSWERS, "category": "sextortion", "submission": choice["submission"]}
    )
    assert 'id="receipt"' in sent.content.decode()
    assert Report.objects.get().category == "sextortion"


@pytest.mark.parametrize("quick_exit", [False, True], ids=["sent", "sent-then-quick-exit"])
def test_after_the_report_the_choice_sent_again_leads_to_the_start_page(
    client: Client, quick_exit: bool
) -> None:
    choice = _choice(client)
    sent = {**ANSWERS, "category": "sextortion", "submission": choice["submission"]}
    assert client.post("/en/report/", sent).status_code == 200
    if quick_exit:
        client.post("/en/leave/", {"submission": choice["submission"]})
        assert client.post("/en/report/", sent)["Location"] == "/en/sent/"
    again = client.post("/en/report/", choice)
    assert again.status_code == 303
    assert again["Location"] == "/en/"
    assert Report.objects.count() == 1


def test_the_child_in_danger_form_may_ask_for_the_location_at_the_neutral_address(
    client: Client,
) -> None:
    danger = client.post("/en/report/", _choice(client, "child_in_danger"))
    assert "geolocation=(self)" in danger["Permissions-Policy"]
    other = client.post("/en/report/", _choice(client, "other"))
    assert "geolocation=()" in other["Permissions-Policy"]


def test_the_language_switch_at_the_neutral_address_keeps_the_words(client: Client) -> None:
    choice = _choice(client)
    typed = {**ANSWERS, "category": "sextortion", "submission": choice["submission"]}
    page = client.post("/fr/report/", {**typed, "switch_language": "1"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'lang="fr"' in html
    assert ANSWERS["what_happened"] in html
    assert '<input type="hidden" name="category" value="sextortion">' in html
    assert Report.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"choose": "1"},
        {"choose": "1", "category": "nope"},
        {"choose": "1", "category": "x" * 5000},
        {"category": "../report/csam"},
    ],
)
def test_a_hostile_choice_leads_to_the_start_page(client: Client, body: dict[str, str]) -> None:
    answer = client.post("/en/report/", body)
    assert answer.status_code == 303
    assert answer["Location"] == "/en/"


def test_a_choice_that_is_not_text_leads_to_the_start_page(client: Client) -> None:
    # %ED%A0%80: a lone UTF-16 surrogate written as UTF-8.
    answer = client.post(
        "/en/report/",
        b"choose=1&category=%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code in (303, 400)
    assert "sextortion" not in answer.content.decode()


@pytest.mark.parametrize("token", ["", "x" * 5000, "\x00"])
def test_a_choice_with_a_bad_token_gets_a_fresh_one(client: Client, token: str) -> None:
    page = client.post("/en/report/", {"choose": "1", "category": "other", "submission": token})
    assert page.status_code == 200
    found = TOKEN.search(page.content.decode())
    assert found is not None
    assert found.group(1) not in ("", token)
