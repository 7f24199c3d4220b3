"""What a notice says: XARF parts strict-valid or absent, text in the provider's language, and
nothing of the reporter's."""

from __future__ import annotations

import json

import pytest
import xarf
from django.conf import LazySettings
from django.utils import timezone

from tipline.takedown import compose, config

URLS = [
    ("https://pics.example/a?b=1", "198.51.100.1"),
    ("http://198.51.100.2:8080/x", "198.51.100.2"),
    ("https://bücher.example/y", "198.51.100.3"),
]


def _compose(
    category: str, classification: dict[str, str], language: str = "en"
) -> compose.Composed:
    return compose.compose(
        category=category,
        language=language,
        provider="Example $org Host\r\nBcc: x@evil.example",
        reference="ref-1",
        urls=URLS,
        classification=classification,
        config=config.load(),
        now=timezone.now(),
    )


@pytest.mark.parametrize(
    ("category", "classification", "xarf_type"),
    [
        ("csam", {"legal_assessment": "baseline"}, "csam"),
        ("csam", {"legal_assessment": "national", "industry_category": "B1"}, "csam"),
        ("luring", {}, "csem"),
        ("sextortion", {"victim_age_group": "teen_16_17"}, "csem"),
        ("child_in_danger", {"site_type": "social"}, "csem"),
    ],
)
def test_xarf_parts_are_strict_valid_for_named_hosts_only(
    category: str, classification: dict[str, str], xarf_type: str
) -> None:
    composed = _compose(category, classification)
    # An IP-literal URL has no XARF domain, and XARF's domain pattern refuses IDNA ("xn--"):
    # both are listed in the readable text, not as XARF.
    assert len(composed.xarf_parts) == 1
    for part in composed.xarf_parts:
        assert xarf.parse(part, strict=True).errors == []
        assert json.loads(part)["type"] == xarf_type
    assert json.loads(composed.xarf_parts[0])["domain"] == "pics.example"
    for url, _address in URLS:
        assert url in composed.body


def test_national_only_csam_gets_the_readable_notice_alone() -> None:
    assert not compose.uses_xarf("csam", {"legal_assessment": "national"})
    composed = _compose("csam", {"legal_assessment": "national"})
    assert composed.xarf_parts == ()
    assert "XARF" not in composed.body


@pytest.mark.parametrize("category", ["ncii", "cyberstalking", "other"])
def test_no_xarf_type_for_harassment_or_intimate_images(category: str) -> None:
    assert _compose(category, {"legal_assessment": "baseline"}).xarf_parts == ()


@pytest.mark.parametrize(("language", "words"), [("en", "Dear"), ("fr", "Madame"), ("hi", "प्रिय")])
def test_text_in_the_providers_language_and_a_one_line_subject(
    settings: LazySettings, language: str, words: str
) -> None:
    settings.TIPLINE_HOTLINE_NAME = "Test Hotline"
    composed = _compose("csam", {"legal_assessment": "baseline"}, language)
    assert words in composed.body
    assert "\n" not in composed.subject
    assert "\r" not in composed.subject
    # A provider name is text, never a template: "$org" stays as written.
    assert "Example $org Host" in composed.body
    assert "Test Hotline" in composed.subject
    assert "ref-1" in composed.subject


def test_an_unknown_language_falls_back_to_english() -> None:
    assert "Dear" in _compose("luring", {}, "de").body
