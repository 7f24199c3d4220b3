"""Switching language mid-form keeps every word typed (issue 13), with or without JavaScript: the
language switch on a report form is a set of buttons that send the form to the same page in the
other language, which shows it again, filled in and unchecked."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tipline.cases.models import Report

pytestmark = pytest.mark.django_db
TYPED = {
    "what_happened": "He says he will send my photos to my school unless I pay £200 tonight.",
    "platform": "A chat app",
    "urls": "https://example.org/profile/abc",
    "country": "GB",
    "contact_choice": "anonymous",
    "demand": "money",
    "deadline": "tonight at 9",
}


def test_the_report_form_offers_language_buttons_tied_to_the_form(client: Client) -> None:
    page = client.get("/en/report/sextortion/").content.decode()
    assert 'id="report-form"' in page
    assert re.search(
        r'<button type="submit" form="report-form" formaction="/fr/report/sextortion/"'
        r' formnovalidate name="switch_language" value="1" lang="fr">',
        page,
    )


def test_switching_keeps_what_was_typed_and_files_nothing(client: Client) -> None:
    form = client.get("/en/report/sextortion/").content.decode()
    token = re.search(r'name="submission" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/fr/report/sextortion/", {**TYPED, "submission": token, "switch_language": "1"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert "He says he will send my photos to my school unless I pay £200 tonight." in page
    assert 'value="https://example.org/profile/abc"' in page or "example.org/profile/abc" in page
    assert 'value="GB" selected' in page
    assert f'value="{token}"' in page
    assert 'role="alert"' not in page  # no error greets someone who only changed language
    assert Report.objects.count() == 0


def test_the_form_sent_after_switching_files_one_report(client: Client) -> None:
    form = client.get("/en/report/sextortion/").content.decode()
    token = re.search(r'name="submission" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    client.post("/fr/report/sextortion/", {**TYPED, "submission": token, "switch_language": "1"})
    sent = client.post("/fr/report/sextortion/", {**TYPED, "submission": token})
    assert sent.status_code == 200
    assert 'id="receipt"' in sent.content.decode()
    assert Report.objects.count() == 1


# The follow-up thread (issue 13): the same buttons, tied to the message form; the thread opens
# again in the other language with the message typed so far, and nothing is sent.

MESSAGE = "He wrote again from a new account <b>tonight</b> & said he knows my school."


def _thread(client: Client) -> tuple[str, str]:
    from tests import factories

    receipt = factories.report().receipt
    assert receipt is not None
    page = client.post("/en/follow-up/", {"receipt": receipt}).content.decode()
    return receipt, page


def test_the_thread_offers_language_buttons_tied_to_the_message_form(client: Client) -> None:
    _receipt, page = _thread(client)
    assert 'id="followup-form"' in page
    assert re.search(
        r'<button type="submit" form="followup-form" formaction="/hi/follow-up/"'
        r' formnovalidate name="switch_language" value="1" lang="hi">',
        page,
    )
    assert 'href="/fr/follow-up/"' not in page  # a link would lose the thread


@pytest.mark.parametrize("where", ["/fr/follow-up/", "/fr/follow-up/message/"])
def test_switching_on_the_thread_keeps_the_message_and_sends_nothing(
    client: Client, where: str
) -> None:
    from tipline.cases.models import Message

    receipt, page = _thread(client)
    token = re.search(r'name="submission" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    switched = client.post(
        where,
        {"receipt": receipt, "body": MESSAGE, "submission": token, "switch_language": "1"},
    )
    html = switched.content.decode()
    assert switched.status_code == 200
    assert '<html lang="fr">' in html
    assert "He wrote again from a new account &lt;b&gt;tonight&lt;/b&gt; &amp; said" in html
    assert f'name="submission" value="{token}"' in html
    assert f'name="receipt" value="{receipt}"' in html
    assert 'role="alert"' not in html
    assert Message.objects.count() == 0
    # Sending it afterwards, in French, files it once.
    client.post(
        "/fr/follow-up/message/", {"receipt": receipt, "body": MESSAGE, "submission": token}
    )
    client.post(
        "/fr/follow-up/message/", {"receipt": receipt, "body": MESSAGE, "submission": token}
    )
    assert Message.objects.count() == 1


def test_switching_on_the_thread_needs_the_receipt(client: Client) -> None:
    answer = client.post(
        "/fr/follow-up/message/",
        {"receipt": "AAAA-AAAA-AAAA-AAAA", "body": MESSAGE, "switch_language": "1"},
    )
    assert answer.status_code == 404
    assert MESSAGE not in answer.content.decode()
