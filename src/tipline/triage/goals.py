"""The triage goals of issue 20, measured per language with 95 % Wilson intervals.

The goals, on the held-apart test set, for each language:

* threat recall ≥ 90 %: an example labelled `"threat": true` is scored P1 or P2 (urgent enough
  that someone looks the same day);
* P1 recall ≥ 95 %: an example labelled P1 is scored P1;
* calm sentences scored P1/P2 ≤ 5 %: an example of family "calm" is never made urgent.

Each rate is a share of a few dozen to a few hundred examples, so each comes with a Wilson score
interval: unlike the normal approximation it stays inside [0, 1] and is honest at 0 of n and n of
n, which is where these rates live (a rule set that flags no threat, or no calm sentence). A goal
passes on the point estimate; the verdict also says when the interval reaches across the target,
that is when a few examples more or less could turn it.

Pure and standard-library only, like `evaluate.py`, so every figure can be checked by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tipline.triage.evaluate import FAMILIES, Example
from tipline.triage.tiers import Tier

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
URGENT = frozenset({Tier.P1, Tier.P2})
TIER_ORDER = {Tier.P1: 0, Tier.P2: 1, Tier.P3: 2, Tier.P4: 3}


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for `successes` out of `n`; None when there are no trials."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # At 0 of n the lower bound is exactly 0 and at n of n the upper bound exactly 1; floating
    # point would give -1e-17 or 0.9999999999999999, and "1.00 of 1.00" must read as such.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Rate:
    hits: int
    n: int

    @property
    def value(self) -> float | None:
        return self.hits / self.n if self.n else None

    @property
    def ci(self) -> tuple[float, float] | None:
        return wilson(self.hits, self.n)


@dataclass(frozen=True)
class Goal:
    key: str  # the rate it reads
    label: str
    target: float
    at_least: bool  # True: the rate must reach the target; False: it must stay under it

    def verdict(self, rate: Rate) -> bool | None:
        value = rate.value
        if value is None:
            return None
        return value >= self.target if self.at_least else value <= self.target

    def settled(self, rate: Rate) -> bool | None:
        """Whether the whole interval lies on one side of the target."""
        ci = rate.ci
        if ci is None:
            return None
        low, high = ci
        return not low < self.target < high


GOALS: tuple[Goal, ...] = (
    Goal("threat_recall", "threat recall (P1/P2)", 0.90, at_least=True),
    Goal("p1_recall", "P1 recall", 0.95, at_least=True),
    Goal("calm_urgent", "calm scored P1/P2", 0.05, at_least=False),
)

# name -> (label, which examples count, which of those are hits); goals read some of these.
Pair = tuple[Example, Tier]
Spec = tuple[str, Callable[[Example], bool], Callable[[Pair], bool]]


def _labelled_as(tier: Tier) -> Callable[[Example], bool]:
    return lambda example: example.tier == tier


def _exact(pair: Pair) -> bool:
    return pair[0].tier == pair[1]


def _urgent(pair: Pair) -> bool:
    return pair[1] in URGENT


RATES: dict[str, Spec] = {
    "exact": ("exact tier", lambda e: True, _exact),
    "threat_recall": ("threat recall (P1/P2)", lambda e: e.threat is True, _urgent),
    "p1_recall": ("P1 recall", _labelled_as(Tier.P1), _exact),
    "p2_recall": ("P2 recall", _labelled_as(Tier.P2), _exact),
    "p3_recall": ("P3 recall", _labelled_as(Tier.P3), _exact),
    "p4_recall": ("P4 recall", _labelled_as(Tier.P4), _exact),
    "calm_urgent": ("calm scored P1/P2", lambda e: e.family == "calm", _urgent),
    "negative_urgent": ("hard negatives scored P1/P2", lambda e: e.family == "negative", _urgent),
}
# For the families that describe danger: the share scored at their labelled tier or more urgent.
DANGER_FAMILIES = tuple(f for f in FAMILIES if f not in ("negative", "calm"))


@dataclass(frozen=True)
class Group:
    name: str  # "en", or "hi/deva" for a script within a language
    is_language: bool  # goals are judged per language; script groups are for reading only
    rates: dict[str, Rate]
    families: dict[str, Rate]  # danger family -> reached its tier or more urgent


def _measure(name: str, pairs: Sequence[Pair], *, is_language: bool) -> Group:
    rates: dict[str, Rate] = {}
    for key, (_label, counts, hit) in RATES.items():
        kept = [p for p in pairs if counts(p[0])]
        rates[key] = Rate(sum(1 for p in kept if hit(p)), len(kept))
    families: dict[str, Rate] = {}
    for family in DANGER_FAMILIES:
        kept = [p for p in pairs if p[0].family == family]
        if kept:
            reached = sum(1 for e, tier in kept if TIER_ORDER[tier] <= TIER_ORDER[e.tier])
            families[family] = Rate(reached, len(kept))
    return Group(name=name, is_language=is_language, rates=rates, families=families)


def measure(examples: Sequence[Example], predicted: Sequence[Tier]) -> tuple[Group, ...]:
    """One group per language label ("?" for none), then one per script within a language."""
    if len(examples) != len(predicted):
        raise ValueError("one prediction per example is needed")
    pairs = list(zip(examples, predicted, strict=True))
    groups: list[Group] = []
    for lang in sorted({e.lang or "?" for e in examples}):
        mine = [p for p in pairs if (p[0].lang or "?") == lang]
        groups.append(_measure(lang, mine, is_language=True))
        scripts = sorted({p[0].script for p in mine if p[0].script})
        if len(scripts) > 1:
            for script in scripts:
                subset = [p for p in mine if p[0].script == script]
                groups.append(_measure(f"{lang}/{script}", subset, is_language=False))
    return tuple(groups)


# --- output --------------------------------------------------------------------------------


def _rate(rate: Rate) -> str:
    if rate.value is None:
        return f"{'—':<19}{'0/0':>9}"
    low, high = rate.ci or (0.0, 0.0)
    return f"{rate.value:.2f} [{low:.2f}, {high:.2f}]  {f'{rate.hits}/{rate.n}':>9}"


def _verdict(goal: Goal, rate: Rate) -> str:
    sign = "≥" if goal.at_least else "≤"
    passed = goal.verdict(rate)
    if passed is None:
        return f"goal {sign} {goal.target:.2f}  n/a (no examples labelled for it)"
    word = "PASS" if passed else "FAIL"
    shaky = "" if goal.settled(rate) else " (the interval reaches across the goal)"
    return f"goal {sign} {goal.target:.2f}  {word}{shaky}"


def render(groups: Sequence[Group]) -> str:
    """Per language: every rate with its Wilson interval, and the goals with pass or fail."""
    goals = {goal.key: goal for goal in GOALS}
    lines = ["by language (95% Wilson intervals; goals judged per language on the point estimate)"]
    for group in groups:
        examples = group.rates["exact"].n
        kind = "" if group.is_language else " (script within the language; no goal verdicts)"
        lines.append(f"{group.name}: {examples} examples{kind}")
        for key, (label, _counts, _hit) in RATES.items():
            rate = group.rates[key]
            if rate.n == 0 and key not in goals:
                continue
            line = f"  {label:<34}{_rate(rate)}"
            if key in goals and group.is_language:
                line += f"  {_verdict(goals[key], rate)}"
            lines.append(line)
        for family, rate in group.families.items():
            lines.append(f"  {family + ' at its tier or above':<34}{_rate(rate)}")
    return "\n".join(lines)


def _rate_json(rate: Rate) -> dict[str, Any]:
    ci = rate.ci
    return {"value": rate.value, "hits": rate.hits, "n": rate.n, "ci": list(ci) if ci else None}


def summary(groups: Sequence[Group]) -> dict[str, Any]:
    """Machine-readable: per group, every rate, the family rates and (per language) the goals."""
    out: dict[str, Any] = {}
    for group in groups:
        entry: dict[str, Any] = {
            "rates": {key: _rate_json(rate) for key, rate in group.rates.items()},
            "families": {family: _rate_json(rate) for family, rate in group.families.items()},
        }
        if group.is_language:
            entry["goals"] = {
                goal.key: {
                    "target": goal.target,
                    "at_least": goal.at_least,
                    "pass": goal.verdict(group.rates[goal.key]),
                    "settled": goal.settled(group.rates[goal.key]),
                }
                for goal in GOALS
            }
        out[group.name] = entry
    return out
