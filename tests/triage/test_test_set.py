"""The held-apart test set (issue 20): well formed, covering what the goals need, and apart.

It is written before the rules are rebuilt and never tuned on; these tests guard its shape and
its separation from the development set, never its scores.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter

from tipline.triage.evaluate import BENIGN_FAMILIES, DEV_SET, FAMILIES, TEST_SET, load
from tipline.triage.tiers import Tier

LANGUAGES = ("en", "fr", "hi")


def _normalised(text: str) -> str:
    """Case-folded, whitespace collapsed (NFC first, so composed and decomposed forms agree)."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def test_no_sentence_is_in_both_the_development_and_the_test_set() -> None:
    dev = {_normalised(e.text) for e in load(DEV_SET).examples}
    test = [_normalised(e.text) for e in load(TEST_SET).examples]
    shared = [text for text in test if text in dev]
    assert shared == [], f"{len(shared)} test sentences also in the development set"


def test_the_guard_sees_through_case_and_spacing() -> None:
    assert _normalised("I  will\tHURT you ") == _normalised("i will hurt you")
    assert _normalised("Ma fille") != _normalised("Ma fille de 12 ans")


def test_the_test_set_parses_cleanly_and_has_no_duplicates() -> None:
    parsed = load(TEST_SET)
    assert parsed.bad == ()
    texts = [_normalised(e.text) for e in parsed.examples]
    assert len(set(texts)) == len(texts)
    for raw in TEST_SET.read_text(encoding="utf-8").splitlines():
        assert set(json.loads(raw)) <= {
            "text",
            "tier",
            "lang",
            "family",
            "threat",
            "kind",
            "style",
            "script",
        }


def test_every_example_carries_the_labels_the_goals_need() -> None:
    for example in load(TEST_SET).examples:
        assert example.lang in LANGUAGES, example.line
        assert example.family in FAMILIES, example.line
        assert isinstance(example.threat, bool), example.line
        if example.threat:
            # A threat is urgent by definition here: threat recall counts P1/P2.
            assert example.tier in (Tier.P1, Tier.P2), example.line
        if example.family in BENIGN_FAMILIES:
            assert example.tier == Tier.P4, example.line
        if example.lang == "hi":
            assert example.script in ("deva", "latn"), example.line


def test_each_language_has_at_least_300_sentences_across_every_family() -> None:
    examples = load(TEST_SET).examples
    by_lang = Counter(e.lang for e in examples)
    cells = Counter((e.lang, e.family) for e in examples)
    threats = Counter(e.lang for e in examples if e.threat)
    p1 = Counter(e.lang for e in examples if e.tier == Tier.P1)
    for lang in LANGUAGES:
        assert by_lang[lang] >= 300, lang
        assert threats[lang] >= 60, lang  # the threat-recall goal needs room to be read
        assert p1[lang] >= 40, lang
        for family in FAMILIES:
            assert cells[(lang, family)] >= 25, (lang, family)
    raw = [json.loads(line) for line in TEST_SET.read_text(encoding="utf-8").splitlines()]
    kinds = Counter((obj["lang"], obj["kind"]) for obj in raw if obj["threat"])
    for lang in LANGUAGES:
        for kind in ("direct", "cond", "group", "veiled"):
            assert kinds[(lang, kind)] >= 9, (lang, kind)


def test_hindi_is_written_in_both_scripts() -> None:
    hindi = [e for e in load(TEST_SET).examples if e.lang == "hi"]
    scripts = Counter(e.script for e in hindi)
    assert scripts["deva"] >= 150
    assert scripts["latn"] >= 150
    for example in hindi:
        devanagari = any("\u0900" <= ch <= "\u097f" for ch in example.text)
        assert devanagari == (example.script == "deva"), example.line
