"""Hindi form errors are Tipline's own words, not Django's stock strings.

Django's Hindi catalogue says "यह क्षेत्र अपेक्षित हैं" ("this area is expected") for a missing
answer and leaves the too-long message in English. Tipline's catalogue overrides every stock
message its public forms can show.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

# Every Django message a public form can show (fields used by intake, follow-up and the locker).
STOCK = [
    "This field is required.",
    "Enter a valid email address.",
    "Enter a valid URL.",
    "Select a valid choice. %(value)s is not one of the available choices.",
    "Enter a whole number.",
    "Enter a number.",
    "Enter a valid date.",
    "The submitted file is empty.",
    "No file was submitted. Check the encoding type on the form.",
]


@pytest.mark.parametrize("message", STOCK)
def test_each_stock_message_has_our_hindi(message: str) -> None:
    with translation.override("hi"):
        shown = translation.gettext(message)
    assert shown != message
    # Django's stock wording:
    assert "अपेक्षित" not in shown
    assert "संचिका" not in shown


def test_the_too_long_message_is_in_hindi_in_both_plural_forms() -> None:
    singular = "Ensure this value has at most %(limit_value)d character (it has %(show_value)d)."
    plural = "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d)."
    with translation.override("hi"):
        for n in (1, 5):
            shown = translation.ngettext(singular, plural, n) % {
                "limit_value": n,
                "show_value": n + 1,
            }
            assert "Ensure" not in shown
            assert str(n + 1) in shown


@pytest.mark.django_db
def test_a_missing_answer_in_hindi_reads_naturally(client: Client) -> None:
    response = client.post("/hi/report/luring/", {"contact_choice": "anonymous"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "यह जानकारी भरना ज़रूरी है।" in page
    assert "यह क्षेत्र अपेक्षित हैं" not in page
