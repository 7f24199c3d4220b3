"""The assistant's "in your own words" step as a reporter uses it (intake/words.py, issue 20).

The words travel only in POST bodies, are never stored or logged, the report form opens with
them filled in, and after Quick exit the browser's history can show nothing of them.
"""

from __future__ import annotations

import html
import logging
import re

import pytest
from django.apps import apps
from django.test import Client

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="submission" value="([^"]+)"')
WORDS = "Someone is blackmailing me and wants money, or he will send my photos to my friends."


def _start_token(client: Client, lang: str = "en") -> str:
    page = client.get(f"/{lang}/help/assistant/").content.decode()
    assert f'action="/{lang}/assistant/"' in page
    found = TOKEN.search(page)
    assert found
    return found.group(1)


def _rows() -> dict[str, int]:
    # Every table (an unmanaged model has none: django-tasks-redis's admin stand-in, installed on
    # the scale-out profile, where Redis holds what the relay sent; the outbox is a table here).
    models = [model for model in apps.get_models() if model._meta.managed]
    return {model._meta.label: model.objects.count() for model in models}


def test_the_words_are_read_and_the_form_offered_with_them(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    token = _start_token(client)
    before = _rows()
    with caplog.at_level(logging.DEBUG):
        answer = client.post("/en/assistant/", {"words": WORDS, "submission": token})
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    page = answer.content.decode()
    assert "This sounds like:" in page
    assert "Sextortion" in page
    assert "Not right? Choose yourself" in page
    assert html.escape(WORDS) in page  # only inside the forms' hidden fields
    assert 'action="/en/leave/"' in page  # Quick exit tells the server first
    # Nothing kept: no row anywhere, no log line with the words.
    assert _rows() == before
    assert not [r for r in caplog.records if "blackmail" in r.getMessage()]

    # Continue: the report form opens with the words in it, its address naming no category.
    form = client.post(
        "/en/report/",
        {"choose": "1", "category": "sextortion", "submission": token, "what_happened": WORDS},
    )
    assert form.status_code == 200
    assert html.escape(WORDS) in form.content.decode()


def test_after_quick_exit_the_answer_sent_again_shows_nothing(client: Client) -> None:
    token = _start_token(client)
    client.post("/en/assistant/", {"words": WORDS, "submission": token})
    left = client.post("/en/leave/", {"submission": token})
    assert left.status_code == 303
    again = client.post("/en/assistant/", {"words": WORDS, "submission": token})
    assert again.status_code == 303
    assert again["Location"] == "/en/"
    # Nor does the report form that the answer would have opened.
    form = client.post(
        "/en/report/",
        {"choose": "1", "category": "sextortion", "submission": token, "what_happened": WORDS},
    )
    assert form.status_code == 303


def test_danger_right_now_shows_the_emergency_numbers_before_anything_else(client: Client) -> None:
    token = _start_token(client)
    page = client.post(
        "/en/assistant/",
        {
            "words": "He told my daughter to meet him tonight and not to tell anyone",
            "submission": token,
        },
    ).content.decode()
    assert page.index("danger-banner") < page.index("words-choice")


def test_a_country_shows_its_services_and_keeps_the_words_in_the_post(client: Client) -> None:
    token = _start_token(client)
    page = client.post(
        "/en/assistant/",
        {"words": "He keeps messaging me from fake accounts", "submission": token, "country": "GB"},
    ).content.decode()
    assert "In United Kingdom" in page or "In the United Kingdom" in page
    assert "?words=" not in page
    assert "words=" not in page.replace('name="words"', "")


@pytest.mark.parametrize(
    ("lang", "words", "label"),
    [
        ("fr", "Il me fait chanter et exige de l'argent", "Sextorsion"),
        ("hi", "वो नए अकाउंट से मेरा पीछा कर रहा है", "पीछा"),
    ],
)
def test_it_answers_in_the_page_language(client: Client, lang: str, words: str, label: str) -> None:
    token = _start_token(client, lang)
    page = client.post(
        f"/{lang}/assistant/", {"words": words, "submission": token}
    ).content.decode()
    assert label in page


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"words": ""},
        {"words": "   "},
        {"words": ["a", "b"]},
        {"words": "x" * 100_000, "submission": "not a token!"},
        {"words": "scam", "country": "<script>"},
        {"words": "scam", "country": "ZZ"},
        {"words": "scam", "submission": "A" * 300},
    ],
)
def test_hostile_posts_get_a_page_or_the_start(client: Client, data: dict[str, object]) -> None:
    answer = client.post("/en/assistant/", data)
    assert answer.status_code in {200, 303, 400}
    if answer.status_code == 200:
        assert b"<script>" not in answer.content


@pytest.mark.parametrize("body", ["words=%ED%A0%80", "words=%FF%FE", "words=%00%00scam"])
def test_broken_encodings_are_answered(client: Client, body: str) -> None:
    answer = client.post("/en/assistant/", body, content_type="application/x-www-form-urlencoded")
    assert answer.status_code in {200, 303, 400}


def test_a_get_leads_to_the_assistant(client: Client) -> None:
    answer = client.get("/en/assistant/?words=hello")
    assert answer.status_code == 303
    assert answer["Location"] == "/en/help/assistant/"
