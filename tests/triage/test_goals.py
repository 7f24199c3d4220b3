"""The issue-20 goals: Wilson intervals on known values, the per-language split, the verdicts."""

from __future__ import annotations

import pytest

from tipline.triage.evaluate import Example
from tipline.triage.goals import GOALS, Rate, measure, render, summary, wilson
from tipline.triage.tiers import Tier

Z = 1.959963984540054


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # computed by hand from the formula, to four places
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (20, 100, 0.1334, 0.2888),
        (1, 1, 0.2065, 1.0),
    ],
)
def test_wilson_matches_known_values(successes: int, n: int, low: float, high: float) -> None:
    interval = wilson(successes, n)
    assert interval is not None
    assert interval[0] == pytest.approx(low, abs=1e-4)
    assert interval[1] == pytest.approx(high, abs=1e-4)


@pytest.mark.parametrize(("successes", "n"), [(1, 3), (7, 40), (84, 84), (3, 1000), (50, 51)])
def test_wilson_bounds_solve_the_score_equation(successes: int, n: int) -> None:
    """The Wilson bounds are the p with |p̂ - p| = z·sqrt(p(1-p)/n): check that independently."""
    interval = wilson(successes, n)
    assert interval is not None
    p_hat = successes / n
    for p in interval:
        if p in (0.0, 1.0) and p == p_hat:
            continue  # the clamped end at 0 of n or n of n
        assert (p_hat - p) ** 2 == pytest.approx(Z * Z * p * (1 - p) / n, rel=1e-9, abs=1e-15)
    assert interval[0] <= p_hat <= interval[1]
    mirror = wilson(n - successes, n)
    assert mirror is not None
    assert interval[0] == pytest.approx(1 - mirror[1])  # symmetric in successes and failures


def test_wilson_refuses_impossible_counts_and_has_no_interval_without_trials() -> None:
    assert wilson(0, 0) is None
    for successes, n in ((-1, 5), (6, 5), (0, -1)):
        with pytest.raises(ValueError, match="successes"):
            wilson(successes, n)


def _example(
    line: int,
    tier: str,
    lang: str,
    family: str,
    *,
    threat: bool = False,
    script: str | None = None,
) -> Example:
    return Example(
        text=f"example {line}",
        tier=Tier(tier),
        lang=lang,
        line=line,
        family=family,
        threat=threat,
        script=script,
    )


def test_rates_are_split_per_language_and_per_script() -> None:
    examples = [
        # English: two threats, one flagged (P2) and one missed (P4); one calm made urgent.
        _example(1, "P2", "en", "threat", threat=True),
        _example(2, "P2", "en", "threat", threat=True),
        _example(3, "P4", "en", "calm"),
        _example(4, "P1", "en", "meeting"),
        # Hindi: a threat in each script, both flagged P1; a calm sentence left calm.
        _example(5, "P2", "hi", "threat", threat=True, script="deva"),
        _example(6, "P2", "hi", "threat", threat=True, script="latn"),
        _example(7, "P4", "hi", "calm", script="latn"),
    ]
    predicted = [Tier.P2, Tier.P4, Tier.P2, Tier.P3, Tier.P1, Tier.P1, Tier.P4]
    groups = {group.name: group for group in measure(examples, predicted)}
    assert list(groups) == ["en", "hi", "hi/deva", "hi/latn"]
    en, hi = groups["en"], groups["hi"]
    assert en.rates["threat_recall"] == Rate(1, 2)
    assert en.rates["calm_urgent"] == Rate(1, 1)
    assert en.rates["p1_recall"] == Rate(0, 1)
    assert en.rates["exact"] == Rate(1, 4)
    assert en.families["meeting"] == Rate(0, 1)  # P3 is below its labelled P1
    assert hi.rates["threat_recall"] == Rate(2, 2)
    assert hi.rates["calm_urgent"] == Rate(0, 1)
    assert hi.families["threat"] == Rate(2, 2)  # P1 for a P2 label is "at its tier or above"
    assert groups["hi/latn"].rates["exact"] == Rate(1, 2)
    assert not groups["hi/deva"].is_language
    out = summary(tuple(groups.values()))
    assert out["en"]["goals"]["threat_recall"]["pass"] is False
    assert out["en"]["goals"]["calm_urgent"]["pass"] is False
    assert out["hi"]["goals"]["threat_recall"]["pass"] is True
    assert out["hi"]["goals"]["p1_recall"]["pass"] is None  # no P1 examples in Hindi
    assert "goals" not in out["hi/deva"]
    assert out["en"]["rates"]["threat_recall"]["ci"] == pytest.approx(list(wilson(1, 2) or ()))


def test_render_gives_each_goal_a_verdict_and_the_interval() -> None:
    examples = [_example(i, "P2", "fr", "threat", threat=True) for i in range(1, 21)]
    examples += [_example(i, "P4", "fr", "calm") for i in range(21, 61)]
    predicted = [Tier.P2] * 19 + [Tier.P4] + [Tier.P4] * 40
    table = render(measure(examples, predicted))
    line = next(row for row in table.splitlines() if "threat recall" in row)
    assert "0.95 [0.76, 0.99]" in line
    assert "19/20" in line
    assert "PASS" in line
    assert "reaches across the goal" in line  # 0.76 < 0.90 < 0.99
    calm = next(row for row in table.splitlines() if "calm scored" in row)
    assert "0/40" in calm
    assert "PASS" in calm
    p1 = next(row for row in table.splitlines() if "P1 recall" in row)
    assert "n/a" in p1


def test_a_clear_failure_is_settled() -> None:
    threat, p1, calm = GOALS
    assert threat.verdict(Rate(5, 84)) is False
    assert threat.settled(Rate(5, 84)) is True
    assert calm.verdict(Rate(0, 38)) is True
    assert calm.settled(Rate(0, 38)) is False  # upper bound 0.09 is above 0.05
    assert p1.verdict(Rate(0, 0)) is None


def test_measure_needs_one_prediction_per_example() -> None:
    with pytest.raises(ValueError, match="one prediction per example"):
        measure([_example(1, "P1", "en", "meeting")], [])
