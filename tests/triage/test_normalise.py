"""Normalisation: evasive spellings become plain words, and offsets still point at the original."""

# Look-alike letters are what these tests feed in.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tipline.triage.normalise import normalise


def _original_of(text: str, start: int, end: int) -> str:
    norm = normalise(text)
    a, b = norm.original_range(start, end)
    return text[a:b]


def test_case_whitespace_and_plain_ascii_keep_identity_offsets() -> None:
    norm = normalise("Hello\n\tWORLD")
    assert norm.text == "hello world"
    assert norm.original_range(6, 11) == (7, 12)


def test_zero_width_and_soft_hyphen_are_removed() -> None:
    text = "k\u200bi\u00adl\u2060l"
    norm = normalise(text)
    assert norm.text == "kill"
    assert _original_of(text, 0, 4) == text


def test_homoglyphs_map_to_latin() -> None:
    assert normalise("Кіll уоu").text == "kill you"  # Cyrillic К, і, у, о
    assert normalise("ΚΙΛΛ").text != "kill"  # Greek lambda is not a look-alike
    assert normalise("ΤΟΝΙGΗΤ").text == "tonight"


def test_leetspeak_between_letters_only() -> None:
    assert normalise("m33t h3r t0night").text == "meet her tonight"
    assert normalise("k1ll").text == "kill"
    assert normalise("h@te $end").text == "hate send"
    # Numbers that carry meaning stay numbers: ages, school years, money.
    assert normalise("she is 12, 14yo, 7th grade, $50").text == "she is 12, 14yo, 7th grade, $50"


def test_spaced_letters_are_joined() -> None:
    text = "I will find y o u. k.i.l.l"
    norm = normalise(text)
    assert norm.text == "i will find you. kill"
    start = norm.text.index("you")
    assert _original_of(text, start, start + 3) == "y o u"
    # Two single letters are left alone ("a b" could be anything).
    assert normalise("plan a b").text == "plan a b"


def test_accents_and_compatibility_forms() -> None:
    assert normalise("Café cafe\u0301").text == "cafe cafe"
    assert normalise("ｍｅｅｔ").text == "meet"  # fullwidth
    text = "Straße"
    norm = normalise(text)
    assert norm.text == "strasse"
    assert _original_of(text, 4, 6) == "ß"


def test_curly_apostrophes() -> None:
    assert normalise("don’t tell").text == "don't tell"


def test_devanagari_is_kept_intact() -> None:
    text = "मैं तुम्हें मार दूंगा"
    assert normalise(text).text == text


def test_one_megabyte_normalises_and_maps_back() -> None:
    # Correctness at size only: speed is measured by benchmarks/triage.py, not asserted here (a
    # wall-clock bound failed on a loaded CI machine and says nothing about the code).
    mixed = ("Meet me after school. नमस्ते दोस्त \u200b k1ll y o u Кill ☺ " * 20_000)[:1_000_000]
    norm = normalise(mixed)
    assert "kill" in norm.text
    start, end = norm.original_range(0, len(norm.text))
    assert 0 <= start < end <= len(mixed)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_offsets_always_map_inside_the_original(text: str) -> None:
    norm = normalise(text)
    previous = 0
    for i in range(len(norm.text)):
        start, end = norm.original_range(i, i + 1)
        assert 0 <= start < end <= len(text)
        assert start >= previous
        previous = start
