"""The engine: scores, tiers, reasons with spans on the reporter's own words, and bounded work."""

# Look-alike letters are what these tests feed in.
# ruff: noqa: RUF001

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tipline.triage import engine
from tipline.triage.engine import DATA, Engine
from tipline.triage.rules import RuleError
from tipline.triage.tiers import Tier
from tipline.triage.types import Score, Signal


def _fired(result: Score) -> dict[str, str | None]:
    return {r.rule: (r.span.text if r.span else None) for r in result.reasons}


def test_child_meeting_an_adult_tonight_is_p1_with_spans() -> None:
    text = "A man online told my 12 year old daughter he will meet her tonight at the park"
    result = engine.score(text)
    assert result.tier is Tier.P1
    fired = _fired(result)
    assert fired["en.imminent.meeting_tonight"] == "meet her tonight"
    assert fired["en.minor.age_years_old"] == "12 year old"
    assert "combo.child_imminent_danger" in fired
    for reason in result.reasons:
        if reason.span:
            assert text[reason.span.start : reason.span.end] == reason.span.text
    assert result.rules_version == engine.load().version


def test_spans_point_at_obfuscated_original_words() -> None:
    text = "He said he'll m33t h3r t0night. I will k\u200b1ll y o u. Тhe Кіll list"
    fired = _fired(engine.score(text, lang="en"))
    assert fired["en.imminent.meeting_tonight"] == "m33t h3r t0night"
    assert fired["en.threat.kill"] == "I will k\u200b1ll y o u"
    fired = _fired(engine.score("i am going to find y o u", lang="en"))
    assert "en.threat.kill" not in fired
    fired = _fired(engine.score("I will hurt y o u", lang="en"))
    assert fired["en.threat.hurt"] == "hurt y o u"


def test_negation_stops_a_rule() -> None:
    assert "en.threat.named" not in _fired(engine.score("he did not threaten me"))
    assert "en.threat.named" in _fired(engine.score("he threatened me"))
    # A negator in the previous sentence does not count, and a later unnegated match still fires.
    assert "en.threat.named" in _fired(engine.score("I am not sure. He threatened me"))
    text = "at first he never threatened me but then he threatened me again"
    span = engine.score(text).reasons[0].span
    assert span is not None
    assert span.start == text.rindex("threatened me")


def test_negation_between_the_two_halves_of_a_near_rule() -> None:
    rule = "en.imminent.meeting_tonight"
    assert rule in _fired(engine.score("we will meet tonight", lang="en"))
    # Before the first half (already handled) and between the halves, either order.
    assert rule not in _fired(engine.score("we will not meet tonight", lang="en"))
    assert rule not in _fired(engine.score("we will meet, but not tonight", lang="en"))
    assert rule not in _fired(engine.score("tonight we will not meet", lang="en"))
    assert rule not in _fired(engine.score("meet? no, never tonight", lang="en"))
    # A negator in an earlier sentence between the halves does not count.
    assert rule in _fired(engine.score("let's meet. nobody needs to know. tonight at 8", lang="en"))
    # A later pair that is not negated still fires, with its own span.
    text = "we will not meet tonight. ok we meet tonight"
    reasons = [r for r in engine.score(text, lang="en").reasons if r.rule == rule]
    assert reasons
    assert reasons[0].span is not None
    assert reasons[0].span.text == "meet tonight"
    assert reasons[0].span.start == text.rindex("meet tonight")


def test_near_negation_stays_fast_on_long_gaps() -> None:
    text = ("meet " + "x" * 5000 + " not ") * 200 + "tonight"
    started = time.perf_counter()
    engine.score(text, lang="en")
    assert time.perf_counter() - started < 2.0


def test_proximity_rule_needs_both_sides_close() -> None:
    close = "send me money or I will send them to your family"
    assert "en.sextortion.demand_and_threat" in _fired(engine.score(close))
    far = "send me money " + "and then we talked about the weather for a long time " * 3
    far += "and I will send them to your family"
    assert "en.sextortion.demand_and_threat" not in _fired(engine.score(far))


def test_family_cap_limits_many_weak_rules() -> None:
    text = (
        "how old are you, are your parents home, our secret, don't tell your mom, "
        "let's move to snapchat, send me a selfie, you're my girlfriend, i'll buy you shoes, "
        "mature for your age, only i understand you"
    )
    result = engine.score(text, lang="en")
    grooming = [r for r in result.reasons if r.rule.startswith("en.grooming.")]
    assert len(grooming) >= 8
    assert sum(r.points for r in grooming) == engine.load().scoring.family_caps["grooming"]
    assert any(r.detail == "grooming capped at 40" for r in grooming)
    imminent = engine.score("he will pick you up tonight", lang="en")
    assert imminent.score >= 35


def test_each_rule_fires_at_most_once() -> None:
    result = engine.score("kill you kill you kill you", lang="en")
    assert [r.rule for r in result.reasons].count("en.threat.kill") == 1


def test_signals_appear_as_reasons_without_spans() -> None:
    signal = engine.signal("signal.category.cyberstalking", detail="category")
    linked = Signal(rule="signal.linked_reports", points=10, detail="3 linked reports")
    result = engine.score("", signals=[signal, linked])
    assert result.score == 30
    assert result.tier is Tier.P3
    assert {(r.rule, r.points, r.span, r.detail) for r in result.reasons} == {
        ("signal.category.cyberstalking", 20, None, "category"),
        ("signal.linked_reports", 10, None, "3 linked reports"),
    }
    with pytest.raises(KeyError):
        engine.signal("signal.nope")


def test_empty_and_benign_text_is_p4_zero() -> None:
    for text in ("", "   ", "Thank you for the great website, the school fair was lovely."):
        result = engine.score(text)
        assert (result.score, result.tier, result.reasons) == (0, Tier.P4, ())


def test_rule_tier_override_forces_p1() -> None:
    result = engine.score("she got in his car", lang="en")
    assert result.score < 70
    assert result.tier is Tier.P1


def test_score_is_capped_at_100() -> None:
    text = (
        "I will kill you, I know where you live, I'm outside your house, my 12 year old "
        "daughter, he will meet her tonight, I want to die, "
        "pay me or I will send them to your family"
    )
    assert engine.score(text).score == 100


def test_lang_selects_rules() -> None:
    assert "en.threat.kill" in _fired(engine.score("i will kill you", lang="en"))
    languages = engine.load().ruleset.languages
    other = [lang for lang in languages if lang != "en"]
    if other:
        assert "en.threat.kill" not in _fired(engine.score("i will kill you", lang=other[0]))
    # A language without rules falls back to all of them.
    assert "en.threat.kill" in _fired(engine.score("i will kill you", lang="xx"))


def test_score_messages_matches_score() -> None:
    texts = ["hi", "he threatened me", "", "she is 13 and he wants to meet tonight"]
    assert engine.score_messages(texts) == [engine.score(t) for t in texts]


def test_one_megabyte_and_mixed_scripts_score() -> None:
    chunk = "Meet 😀 नमस्ते дом 家 ‮ the weather is fine. "
    big = (chunk * (1_000_000 // len(chunk) + 1))[:1_000_000] + " he said i will kill you"
    started = time.perf_counter()
    result = engine.score(big)
    assert time.perf_counter() - started < 5  # sanity bound; benchmarks/triage.py measures
    assert "en.threat.kill" in _fired(result)
    span = next(r.span for r in result.reasons if r.rule == "en.threat.kill")
    assert span is not None
    assert big[span.start : span.end] == span.text


def test_pathological_input_finishes() -> None:
    started = time.perf_counter()
    for text in ("a" * 100_000 + "!", "a " * 50_000, "1" * 100_000, "meet " * 20_000):
        engine.score(text)
    assert time.perf_counter() - started < 5


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(), max_size=300)
    | st.text(alphabet="mk1l3ty0 ou.\u200b", max_size=80)
)
def test_random_text_never_raises_and_spans_are_exact(text: str) -> None:
    result = engine.score(text)
    assert 0 <= result.score <= 100
    for reason in result.reasons:
        if reason.span:
            assert text[reason.span.start : reason.span.end] == reason.span.text
            assert reason.span.start < reason.span.end


def test_a_bad_scoring_file_stops_loading(tmp_path: Path) -> None:
    scoring = (DATA / "scoring.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "scoring.yaml"
    bad.write_text(scoring.replace("  P2: 45", "  P2: 80"), encoding="utf-8")
    with pytest.raises(RuleError, match=r"scoring\.yaml:\d+: thresholds must fall"):
        Engine.from_files([DATA / "rules" / "en.yaml"], bad)
    bad.write_text(scoring.replace("  grooming: 40\n", ""), encoding="utf-8")
    with pytest.raises(RuleError, match="family_caps needs exactly"):
        Engine.from_files([DATA / "rules" / "en.yaml"], bad)
