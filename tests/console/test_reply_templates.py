"""Reply templates for messages to reporters (issue 15): data files per language, chosen in the
case view, filled in without JavaScript by a "Use template" round trip that sends nothing."""

from __future__ import annotations

import html

import pytest

from tests import factories
from tests.console.helpers import signed_in
from tests.console.test_reports import HOSTILE
from tipline.cases import categories
from tipline.cases.models import Message, Report
from tipline.console import replies

pytestmark = pytest.mark.django_db


def _url(report: Report, action: str = "") -> str:
    return f"/console/reports/{report.id}/{action}"


def _textarea(page: str) -> str:
    return html.unescape(
        page.split('name="body" id="id_body"')[1].split(">", 1)[1].split("</textarea>")[0]
    )


def test_every_language_has_the_same_templates_and_each_category_has_its_own() -> None:
    loaded = replies.load()
    assert set(loaded) == {"en", "fr", "hi"}
    keys = set(loaded["en"])
    assert all(set(by_key) == keys for by_key in loaded.values())
    for category in categories.CODES:
        offered = {r.key for r in replies.for_category(category, "en")}
        assert {"received", "more_information", "action_taken", "not_actionable"} <= offered
    assert "sextortion_support" in {r.key for r in replies.for_category("sextortion", "hi")}
    assert "sextortion_support" not in {r.key for r in replies.for_category("csam", "en")}
    # No template asks anyone to send or download images (a phrase check, in English).
    for reply in loaded["en"].values():
        assert "send us the images" not in reply.body.lower()


def test_the_case_view_offers_the_categorys_templates_in_the_reporters_language() -> None:
    report = factories.report("sextortion").report
    Report.objects.filter(pk=report.pk).update(language="hi")
    ana, _ = signed_in("ana")
    page = ana.get(_url(report)).content.decode()
    assert 'value="sextortion_support"' in page
    assert 'value="stalking_safety"' not in page
    assert '<option value="hi" selected>' in page
    assert 'id="reply-texts" type="application/json"' in page
    assert 'src="/static/console/replies.js"' in page


def test_use_template_fills_the_box_keeps_typed_words_and_sends_nothing() -> None:
    report = factories.report("cyberstalking").report
    ana, _ = signed_in("ana")
    typed = "Hello, " + HOSTILE
    answer = ana.post(
        _url(report, "message/"),
        {"use_template": "1", "template": "stalking_safety", "language": "fr", "body": typed},
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert HOSTILE not in page, "typed text is escaped when shown again"
    text = _textarea(page)
    assert text.startswith(typed)
    assert replies.find("stalking_safety", "fr", "cyberstalking").body in text  # type: ignore[union-attr]
    assert " autofocus" in page.split('name="body"')[1].split(">")[0]
    assert not Message.objects.filter(report=report).exists()
    # The analyst edits and sends: only then does the reporter get it.
    sent = ana.post(_url(report, "message/"), {"body": text.replace("Hello", "Bonjour")})
    assert sent.status_code == 302
    assert Message.objects.filter(report=report).count() == 1


@pytest.mark.parametrize(
    ("template", "language"),
    [
        ("csam_thanks", "en"),  # exists, but not for this category
        ("nope", "en"),
        ("received", "de"),
        ("received\x00", "en"),
        ("x" * 100_000, "en"),
        (HOSTILE, HOSTILE),
        ("", ""),
    ],
)
def test_a_bad_template_choice_is_a_form_error_and_sends_nothing(
    template: str, language: str
) -> None:
    report = factories.report("cyberstalking").report
    ana, _ = signed_in("ana")
    answer = ana.post(
        _url(report, "message/"),
        {"use_template": "1", "template": template, "language": language, "body": "kept words"},
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "Nothing was saved" in page
    assert HOSTILE not in page
    assert _textarea(page) == "kept words"
    assert not Message.objects.filter(report=report).exists()


def test_a_liaison_gets_no_message_form_and_cannot_use_a_template() -> None:
    report = factories.report("cyberstalking").report
    lee, _ = signed_in("lee", "liaison")
    assert (
        lee.post(
            _url(report, "message/"),
            {"use_template": "1", "template": "received", "language": "en"},
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ({"en": "[a]\ncategories=['all']\ntitle='t'\n"}, "exactly categories, title and body"),
        ({"en": "[a]\ncategories=['nope']\ntitle='t'\nbody='b'\n"}, "no such category"),
        ({"en": "[a]\ncategories=[]\ntitle='t'\nbody='b'\n"}, "categories"),
        ({"en": "[a]\ncategories=['all']\ntitle='t'\nbody='" + "b" * 5000 + "'\n"}, "body"),
        ({"en": "[a]\ncategories=['all']\ntitle=''\nbody='b'\n"}, "title"),
        (
            {
                "en": "[a]\ncategories=['all']\ntitle='t'\nbody='b'\n",
                "fr": "[b]\ncategories=['all']\ntitle='t'\nbody='b'\n",
            },
            "same templates",
        ),
        (
            {
                "en": "[a]\ncategories=['all']\ntitle='t'\nbody='b'\n",
                "fr": "[a]\ncategories=['csam']\ntitle='t'\nbody='b'\n",
            },
            "same categories",
        ),
        ({"en": "[a"}, "not valid TOML"),
    ],
)
def test_a_malformed_replies_file_is_refused_with_its_reason(
    texts: dict[str, str], message: str
) -> None:
    with pytest.raises(replies.RepliesConfigError, match=message):
        replies.parse(texts)
