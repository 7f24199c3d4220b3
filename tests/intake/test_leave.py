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
