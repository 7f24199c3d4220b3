"""The evaluation harness: exact metrics on hand-counted cases, bad lines refused, the dev set."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tipline.triage.evaluate import (
    DEV_SET,
    Example,
    evaluate,
    load,
    parse_jsonl,
    render,
    summary,
)
from tipline.triage.tiers import Tier


def _examples(*pairs: tuple[str, str]) -> list[Example]:
    return [
        Example(text=text, tier=Tier(tier), lang="en", line=i)
        for i, (text, tier) in enumerate(pairs, start=1)
    ]


def _by_text(text: str, lang: str | None) -> Tier:
    """A scorer whose prediction is the text itself, so tests choose every prediction."""
    return Tier(text.split("#")[0])


def test_metrics_match_a_hand_counted_confusion_matrix() -> None:
    # labelled P1: predicted P1, P1, P2; labelled P2: P2, P1; labelled P3: P3; labelled P4: P4, P3
    examples = _examples(
        ("P1#a", "P1"),
        ("P1#b", "P1"),
        ("P2#c", "P1"),
        ("P2#d", "P2"),
        ("P1#e", "P2"),
        ("P3#f", "P3"),
        ("P4#g", "P4"),
        ("P3#h", "P4"),
    )
    report = evaluate(examples, _by_text)
    assert report.confusion == ((2, 1, 0, 0), (1, 1, 0, 0), (0, 0, 1, 0), (0, 0, 1, 1))
    p1 = report.tiers[Tier.P1]
    assert (p1.support, p1.predicted, p1.correct) == (3, 3, 2)
    assert p1.precision == pytest.approx(2 / 3)
    assert p1.recall == pytest.approx(2 / 3)
    assert p1.f1 == pytest.approx(2 / 3)
    p3 = report.tiers[Tier.P3]
    assert p3.precision == pytest.approx(0.5)
    assert p3.recall == pytest.approx(1.0)
    assert p3.f1 == pytest.approx(2 / 3)
    assert report.accuracy == pytest.approx(5 / 8)
    assert report.misses == ((3, Tier.P1, Tier.P2), (5, Tier.P2, Tier.P1), (8, Tier.P4, Tier.P3))


def test_undefined_ratios_are_none_not_zero() -> None:
    report = evaluate(_examples(("P1#a", "P1"), ("P1#b", "P2")), _by_text)
    p2 = report.tiers[Tier.P2]
    assert p2.precision is None  # nothing predicted P2
    assert p2.recall == 0.0
    p3 = report.tiers[Tier.P3]
    assert (p3.precision, p3.recall, p3.f1) == (None, None, None)
    assert summary(report)["tiers"]["P3"]["precision"] is None


def test_bootstrap_intervals_are_seeded_and_bracket_the_estimate() -> None:
    examples = _examples(*[(f"{'P1' if i % 3 else 'P2'}#{i}", "P1") for i in range(30)])
    examples += _examples(*[(f"P2#x{i}", "P2") for i in range(20)])
    first = evaluate(examples, _by_text)
    second = evaluate(examples, _by_text)
    assert first.tiers == second.tiers
    p1 = first.tiers[Tier.P1]
    assert p1.recall_ci is not None
    assert p1.recall is not None
    low, high = p1.recall_ci
    assert 0.0 <= low <= p1.recall <= high <= 1.0
    assert high - low > 0.05  # 30 examples cannot pin recall down
    other_seed = evaluate(examples, _by_text, seed=1)
    assert other_seed.tiers[Tier.P1].recall_ci != p1.recall_ci


def test_a_perfect_scorer_has_degenerate_intervals_at_one() -> None:
    examples = _examples(("P1#a", "P1"), ("P2#b", "P2"), ("P3#c", "P3"), ("P4#d", "P4"))
    report = evaluate(examples, _by_text, resamples=200)
    for stats in report.tiers.values():
        assert stats.precision == stats.recall == stats.f1 == 1.0
        assert stats.precision_ci in (None, (1.0, 1.0))
    assert "[1.00, 1.00]*" in render(report)
    assert "cannot show the uncertainty" in render(report)


def test_bad_lines_are_skipped_with_line_number_and_reason() -> None:
    data = b"\n".join(
        [
            json.dumps({"text": "fine", "tier": "P2", "lang": "en"}).encode(),
            b"{not json",
            b"[1, 2]",
            json.dumps({"tier": "P1"}).encode(),
            json.dumps({"text": "x", "tier": "P5"}).encode(),
            json.dumps({"text": "x", "tier": "p1"}).encode(),
            b'{"text": "\xff", "tier": "P1"}',
            json.dumps({"text": "x", "tier": "P1", "lang": 3}).encode(),
            b"",
            json.dumps({"text": "no language", "tier": "P4"}).encode(),
            json.dumps({"text": "x", "tier": ["P1"]}).encode(),
        ]
    )
    parsed = parse_jsonl(data)
    assert [(e.line, e.tier, e.lang) for e in parsed.examples] == [
        (1, Tier.P2, "en"),
        (10, Tier.P4, None),
    ]
    reasons = {bad.line: bad.reason for bad in parsed.bad}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7, 8, 11]
    assert "not valid JSON" in reasons[2]
    assert "not a JSON object" in reasons[3]
    assert '"text"' in reasons[4]
    assert "P1, P2, P3, P4" in reasons[5]
    assert "P1, P2, P3, P4" in reasons[6]  # tiers are case-sensitive, as everywhere else
    assert "UTF-8" in reasons[7]
    assert '"lang"' in reasons[8]
    assert '"tier"' in reasons[11]


def test_bad_line_reasons_never_echo_the_text() -> None:
    parsed = parse_jsonl(json.dumps({"text": "secret words here", "tier": "P9"}).encode())
    assert "secret" not in parsed.bad[0].reason


def test_render_prints_every_tier_and_the_confusion_matrix() -> None:
    report = evaluate(_examples(("P1#a", "P1"), ("P4#b", "P3")), _by_text, skipped=2)
    table = render(report)
    for tier in ("P1", "P2", "P3", "P4"):
        assert f"\n{tier}" in table
    assert "precision (95% CI)" in table
    assert "confusion" in table
    assert "skipped lines: 2" in table
    assert summary(report)["skipped"] == 2
    assert summary(report)["examples"] == 2


def test_the_development_set_parses_cleanly_and_is_balanced() -> None:
    parsed = load(DEV_SET)
    assert parsed.bad == ()
    assert len(parsed.examples) >= 120
    cells = Counter((e.tier, e.lang) for e in parsed.examples)
    for tier in Tier:
        for lang in ("en", "fr", "hi"):
            assert cells[(tier, lang)] >= 10, (tier, lang)
    texts = [e.text for e in parsed.examples]
    assert len(set(texts)) == len(texts)


def test_optional_labels_are_read_and_malformed_ones_refused() -> None:
    good = {"text": "secret words", "tier": "P2", "lang": "hi", "family": "threat", "threat": True}
    lines = [
        {**good, "script": "latn", "kind": "veiled", "style": "chat"},
        {**good, "family": "Threat"},  # families are exact, as tiers are
        {**good, "family": ["threat"]},
        {**good, "threat": "true"},  # a string is not a boolean
        {**good, "threat": 1},
        {**good, "family": "calm", "threat": True},  # a contradiction in the labels
        {**good, "family": "negative", "threat": True},
        {**good, "script": "देव"},
        {**good, "script": "<script>"},
        {**good, "kind": "k" * 33},
        {**good, "style": 7},
        {"text": "x", "tier": "P4", "family": "calm", "threat": False},
    ]
    parsed = parse_jsonl("\n".join(json.dumps(line) for line in lines).encode())
    first, last = parsed.examples
    assert (first.line, first.family, first.threat, first.script) == (1, "threat", True, "latn")
    assert (last.line, last.family, last.threat, last.script) == (12, "calm", False, None)
    reasons = {bad.line: bad.reason for bad in parsed.bad}
    assert sorted(reasons) == list(range(2, 12))
    assert all('"family"' in reasons[n] for n in (2, 3))
    assert all('"threat" must be true or false' in reasons[n] for n in (4, 5))
    assert all("cannot be true" in reasons[n] for n in (6, 7))
    assert all('"script"' in reasons[n] for n in (8, 9))
    assert '"kind"' in reasons[10]
    assert '"style"' in reasons[11]
    assert all("secret" not in reason for reason in reasons.values())
