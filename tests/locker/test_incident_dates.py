"""Incident dates as people type them, in en/fr/hi, read in the locker's zone (issue 13).

Before issue 13 the form took only "2026-03-14 21:30"-like input and stored it in UTC.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from tipline.locker import incident_dates
from tipline.locker.forms import IncidentForm

LONDON = ZoneInfo("Europe/London")
DELHI = ZoneInfo("Asia/Kolkata")
NOW = datetime(2024, 3, 15, 10, 0, tzinfo=LONDON)  # a Friday


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "14 March 2024 at 11pm", datetime(2024, 3, 14, 23, 0)),
        ("en", "yesterday 9pm", datetime(2024, 3, 14, 21, 0)),
        ("en", "Tuesday 8pm", datetime(2024, 3, 12, 20, 0)),
        ("en", "14/03/2024 23:00", datetime(2024, 3, 14, 23, 0)),
        ("en", "14 March 2024", datetime(2024, 3, 14, 0, 0)),  # no time given: the day
        ("fr", "14 mars 2024 à 23h", datetime(2024, 3, 14, 23, 0)),
        ("fr", "hier à 21h30", datetime(2024, 3, 14, 21, 30)),
        ("fr", "hier 21h", datetime(2024, 3, 14, 21, 0)),  # dateparser alone: 21 hours ago
        ("fr", "hier soir 9h", datetime(2024, 3, 14, 21, 0)),
        ("hi", "कल रात 9 बजे", datetime(2024, 3, 14, 21, 0)),  # कल: yesterday, not tomorrow
        ("hi", "14 मार्च 2024 रात 11 बजे", datetime(2024, 3, 14, 23, 0)),
        ("hi", "परसों शाम 6 बजे", datetime(2024, 3, 13, 18, 0)),
        ("hi", "kal raat 9 baje", datetime(2024, 3, 14, 21, 0)),
        ("hi", "aaj subah 7 baje", datetime(2024, 3, 15, 7, 0)),
    ],
)
def test_typed_dates_are_read_in_the_locker_zone(
    language: str, text: str, expected: datetime
) -> None:
    when = incident_dates.read(text, zone=LONDON, now=NOW, language=language)
    assert when == expected.replace(tzinfo=LONDON)
    assert when.tzinfo == LONDON


def test_the_same_words_mean_the_same_wall_clock_in_another_zone() -> None:
    when = incident_dates.read("yesterday 9pm", zone=DELHI, now=NOW, language="en")
    assert when.replace(tzinfo=None) == datetime(2024, 3, 14, 21, 0)
    assert when.utcoffset() is not None
    assert incident_dates.shown(when, DELHI) == "2024-03-14 21:00 IST (Asia/Kolkata)"


def test_future_and_unreadable_are_refused() -> None:
    with pytest.raises(incident_dates.InTheFuture):
        incident_dates.read("tomorrow 9pm", zone=LONDON, now=NOW, language="en")
    with pytest.raises(incident_dates.NotADate):
        incident_dates.read("when the moon was blue", zone=LONDON, now=NOW, language="en")


def _form(when: str) -> IncidentForm:
    data = {"session": "s", "occurred_at": when, "what_happened": "He followed me home."}
    return IncidentForm(data, evidence=[], zone=LONDON, now=NOW)


def test_the_form_shows_its_reading_back_before_saving() -> None:
    form = _form("yesterday 9pm")
    assert not form.is_valid()
    [error] = form.errors["occurred_at"]
    assert "We read this as Thursday 14 March 2024, 21:00 GMT (Europe/London)" in error
    assert form["occurred_at"].value() == "2024-03-14 21:00"  # shown back, ready to confirm
    again = _form(str(form["occurred_at"].value()))
    assert again.is_valid(), again.errors
    assert again.cleaned_data["occurred_at"] == datetime(2024, 3, 14, 21, 0, tzinfo=LONDON)


def test_the_confirmation_is_in_the_reader_s_language() -> None:
    with translation.override("fr"):
        form = _form("hier à 21h")
        assert not form.is_valid()
        assert "Nous avons lu : jeudi 14 mars 2024, 21:00 GMT" in form.errors["occurred_at"][0]
    with translation.override("hi"):
        form = _form("कल रात 9 बजे")
        assert not form.is_valid()
        assert "हमने इसे ऐसे पढ़ा" in form.errors["occurred_at"][0]


def test_an_empty_date_is_allowed_and_a_future_one_is_not() -> None:
    assert _form("").is_valid()
    form = _form("2030-01-01 10:00")
    assert not form.is_valid()
    assert "later than now" in form.errors["occurred_at"][0]


def test_the_zone_defaults_to_the_server_zone_and_bad_names_fall_back() -> None:
    assert incident_dates.zone_of(None).key == "UTC"
    assert incident_dates.zone_of("Not/AZone").key == "UTC"
    assert "Asia/Kolkata" in incident_dates.zone_names()
    assert "UTC" in incident_dates.zone_names()
