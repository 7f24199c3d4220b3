"""The explainable triage engine: report text (and non-text signals) in, score and reasons out.

Every point in a Score has a named reason; a reason from text carries the span of the reporter's
own words. Rules are data (data/rules/*.yaml, data/scoring.yaml, schema in data/rules/README.md);
`load()` validates them all and is called at app start so a bad file stops the platform rather
than scoring reports wrongly.

Speed: all patterns of the languages in play go into one RE2 set, which tells in one linear
pass which rules can fire at all; only those rules are then searched for their first span. RE2
is linear in the text, so the whole text is scanned, however long, and no input can make a rule
slow (see benchmarks/triage.py for figures).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import re2

from tipline.triage.normalise import Normalised, normalise
from tipline.triage.rules import (
    FAMILIES,
    RE2_SET_OPTIONS,
    Matcher,
    Rule,
    RuleError,
    RuleSet,
    load_yaml,
)
from tipline.triage.rules import load as load_rules
from tipline.triage.tiers import Tier
from tipline.triage.types import Reason, Score, Signal, Span
from tipline.yamlfile import Mapping, Sequence_

DATA = Path(__file__).resolve().parent / "data"
NEGATION_WINDOW_WORDS = 4
# How far before a match a condition word ("if", "agar") is looked for: a negator inside a
# condition ("if you don't pay, I will hurt you") does not negate the threat that follows.
CONDITION_WINDOW_WORDS = 8
# How much of the gap between the two halves of a near match is read for a negator.
NEGATION_GAP_BYTES = 400
# Per rule, how many matches are examined (negated ones skipped, near pairs formed) before the
# rule is taken not to fire. Bounds work on adversarial text that repeats a phrase endlessly.
MAX_MATCHES_PER_RULE = 256
_TIER_ORDER = (Tier.P1, Tier.P2, Tier.P3, Tier.P4)
_SENTENCE_ENDS = (b".", b"!", b"?", b";")
# A rule's `unless` words are looked for in the sentence around its match, at most this many
# bytes either side, so the check costs a bounded amount of work per match.
UNLESS_BYTES = 300
# Sentence ends for `unless`: the negation marks plus the Devanagari danda and double danda.
_UNLESS_ENDS = (*_SENTENCE_ENDS, "\u0964".encode(), "\u0965".encode())


@dataclass(frozen=True)
class Combination:
    id: str
    families: frozenset[str]
    points: int
    tier: Tier
    detail: str


@dataclass(frozen=True)
class Scoring:
    thresholds: tuple[tuple[Tier, int], ...]  # highest tier first
    family_caps: dict[str, int]
    combinations: tuple[Combination, ...]
    signals: dict[str, int]


@dataclass(frozen=True)
class _RuleSetIndex:
    """One RE2 set over the rules of some languages and what each of its entries means."""

    rules: tuple[Rule, ...]
    patterns: Any  # re2.Set
    entries: tuple[tuple[int, int], ...]  # set index -> (rule index, side: 0 a/rule, 1 near b)
    languages: frozenset[str] = frozenset()


_SIGNAL_DESCRIPTIONS = (
    ("signal.category.", "the category the reporter chose"),
    ("signal.answer.", "an answer on the report form"),
    ("signal.linked_reports", "shares an identifier with other reports"),
    ("signal.known_hash", "a file matches known material"),
)


class Engine:
    def __init__(self, ruleset: RuleSet, scoring: Scoring, version: str) -> None:
        self.ruleset = ruleset
        self.scoring = scoring
        self.version = version
        self._descriptions: dict[str, str] | None = None
        self._indexes: dict[str | None, _RuleSetIndex] = {None: _index(ruleset.rules)}
        for language in ruleset.languages:
            self._indexes[language] = _index(
                tuple(r for r in ruleset.rules if r.language == language)
            )

    @classmethod
    def from_files(cls, rule_paths: Iterable[str | Path], scoring_path: str | Path) -> Engine:
        ruleset = load_rules(rule_paths)
        scoring_bytes = _read(Path(scoring_path))
        scoring = _load_scoring(Path(scoring_path), scoring_bytes)
        version = hashlib.sha256(ruleset.version.encode() + b"\0" + scoring_bytes).hexdigest()
        return cls(ruleset, scoring, version[:12])

    def describe(self, rule: str) -> str:
        """What a rule, combination or signal means, for the console's list of reasons."""
        if self._descriptions is None:
            found = {r.id: r.description for r in self.ruleset.rules}
            found |= {c.id: c.detail for c in self.scoring.combinations}
            self._descriptions = found
        if rule in self._descriptions:
            return self._descriptions[rule]
        for prefix, text in _SIGNAL_DESCRIPTIONS:
            if rule.startswith(prefix):
                return text
        return ""

    def signal(self, rule: str, detail: str = "") -> Signal:
        """A signal with the points scoring.yaml gives it; KeyError for an unknown name."""
        return Signal(rule=rule, points=self.scoring.signals[rule], detail=detail)

    def score(self, text: str, *, lang: str | None = None, signals: Sequence[Signal] = ()) -> Score:
        """Score one text. lang None (or a language without rules) runs every language's rules."""
        index = self._indexes.get(lang, self._indexes[None])
        fired = self._match(index, normalise(text)) if text else []
        return self._assemble(fired, signals)

    def score_messages(self, texts: Sequence[str], lang: str | None = None) -> list[Score]:
        """Score many short texts (chat exports); each message is scored on its own."""
        index = self._indexes.get(lang, self._indexes[None])
        return [self._assemble(self._match(index, normalise(t)) if t else [], ()) for t in texts]

    # --- matching ------------------------------------------------------------------------------

    def _match(self, index: _RuleSetIndex, norm: Normalised) -> list[tuple[Rule, Span]]:
        data = norm.text.encode()
        hit_sides: dict[int, int] = {}
        for entry in index.patterns.Match(data) or ():
            rule_index, side = index.entries[entry]
            hit_sides[rule_index] = hit_sides.get(rule_index, 0) | (1 << side)
        fired = []
        for rule_index, sides in sorted(hit_sides.items()):
            rule = index.rules[rule_index]
            if rule.kind == "near":
                if sides != 0b11:
                    continue
                found = self._near(rule, data)
            else:
                found = self._first(rule, data)
            if found is not None:
                fired.append((rule, _span(norm, data, *found)))
        if len(index.languages) > 1:
            fired = _one_language_per_span(fired)
        return fired

    def _first(self, rule: Rule, data: bytes) -> tuple[int, int] | None:
        position = 0
        for _ in range(MAX_MATCHES_PER_RULE):
            found = _search(rule.matcher, data, position)
            if found is None:
                return None
            if not (rule.negation and self._negated(rule.language, data, found[0])) and not (
                _excepted(rule, data, *found)
            ):
                return found
            position = found[1]
        return None

    def _near(self, rule: Rule, data: bytes) -> tuple[int, int] | None:
        if rule.near_b is None:  # pragma: no cover - the loader guarantees it
            return None
        events = sorted(
            [(s, e, 0) for s, e in _all(rule.matcher, data)]
            + [(s, e, 1) for s, e in _all(rule.near_b, data)]
        )
        latest: list[tuple[int, int, int] | None] = [None, None]  # per side: start, end, end word
        cursor = 0
        words = 0
        for start, end, side in events:
            words += data.count(b" ", cursor, start)
            cursor = start
            end_word = words + data.count(b" ", start, end)
            other = latest[1 - side]
            if other is not None and words - other[2] <= rule.within:
                first = min(other[0], start)
                if not (
                    rule.negation
                    and (
                        self._negated(rule.language, data, first)
                        or self._negated_between(rule.language, data, other[1], start)
                    )
                ) and not _excepted(rule, data, first, max(other[1], end)):
                    return first, max(other[1], end)
            latest[side] = (start, end, end_word)
        return None

    def _negated(self, language: str, data: bytes, start: int) -> bool:
        negators = self.ruleset.negators.get(language)
        if negators is None:
            return False
        window = data[max(0, start - 200) : start]
        window = window[max(window.rfind(mark) for mark in _SENTENCE_ENDS) + 1 :]
        words = window.split()
        near = words[-NEGATION_WINDOW_WORDS:]
        if not near or negators.regex.search(b" ".join(near)) is None:
            return False
        conditionals = self.ruleset.conditionals.get(language)
        wider = b" ".join(words[-CONDITION_WINDOW_WORDS:])
        return conditionals is None or conditionals.regex.search(wider) is None

    def _negated_between(self, language: str, data: bytes, gap_start: int, gap_end: int) -> bool:
        """A negator between the two halves of a near match, in the second half's sentence.

        "we will meet, but not tonight" and "tonight? no, we won't meet" do not fire. Only the
        last NEGATION_GAP_BYTES before the second half are read, so each pair costs a bounded
        amount of work and the rule stays linear in the text.
        """
        negators = self.ruleset.negators.get(language)
        if negators is None or gap_end <= gap_start:
            return False
        window = data[max(gap_start, gap_end - NEGATION_GAP_BYTES) : gap_end]
        window = window[max(window.rfind(mark) for mark in _SENTENCE_ENDS) + 1 :]
        return bool(window.strip()) and negators.regex.search(window) is not None

    # --- scoring -------------------------------------------------------------------------------

    def _assemble(self, fired: list[tuple[Rule, Span]], signals: Sequence[Signal]) -> Score:
        reasons: list[Reason] = []
        floor = Tier.P4
        families: set[str] = set()
        used: dict[str, int] = {}
        for rule, span in sorted(fired, key=lambda f: (-f[0].points, f[1].start)):
            families.add(rule.family)
            cap = self.scoring.family_caps[rule.family]
            points = max(0, min(rule.points, cap - used.get(rule.family, 0)))
            used[rule.family] = used.get(rule.family, 0) + points
            detail = "" if points == rule.points else f"{rule.family} capped at {cap}"
            reasons.append(Reason(rule=rule.id, points=points, span=span, detail=detail))
            if rule.tier is not None:
                floor = _higher(floor, rule.tier)
        for combination in self.scoring.combinations:
            if combination.families <= families:
                reasons.append(Reason(combination.id, combination.points, None, combination.detail))
                floor = _higher(floor, combination.tier)
        reasons.extend(Reason(s.rule, s.points, None, s.detail) for s in signals)
        total = max(0, min(100, sum(r.points for r in reasons)))
        tier = next((t for t, low in self.scoring.thresholds if total >= low), Tier.P4)
        reasons.sort(key=lambda r: (-r.points, r.span.start if r.span else -1))
        return Score(
            score=total,
            tier=_higher(tier, floor),
            reasons=tuple(reasons),
            rules_version=self.version,
        )


def _higher(a: Tier, b: Tier) -> Tier:
    return a if _TIER_ORDER.index(a) <= _TIER_ORDER.index(b) else b


def _index(rules: tuple[Rule, ...]) -> _RuleSetIndex:
    patterns = re2.Set.SearchSet(RE2_SET_OPTIONS)
    entries = []
    for rule_index, rule in enumerate(rules):
        patterns.Add(rule.matcher.prefilter.encode())
        entries.append((rule_index, 0))
        if rule.near_b is not None:
            patterns.Add(rule.near_b.prefilter.encode())
            entries.append((rule_index, 1))
    try:
        patterns.Compile()
    except re2.error as error:  # pragma: no cover - only if RE2 runs out of memory
        raise RuleError("<rules>", 0, f"the combined rule set does not compile: {error}") from None
    return _RuleSetIndex(
        rules=rules,
        patterns=patterns,
        entries=tuple(entries),
        languages=frozenset(r.language for r in rules),
    )


def _excepted(rule: Rule, data: bytes, start: int, end: int) -> bool:
    """Whether the rule's exceptions cancel the match [start, end).

    `unless` words cancel it anywhere in the sentence around it; each `unless_near` group's
    words only within its number of words before or after it in that sentence, so "lol" or
    "game" at the other end of a sentence that holds a threat leaves the threat standing.
    """
    if rule.unless is None and not rule.unless_near:
        return False
    before = data[max(0, start - UNLESS_BYTES) : start]
    cut = max((i + len(m) for m in _UNLESS_ENDS if (i := before.rfind(m)) >= 0), default=0)
    after = data[end : end + UNLESS_BYTES]
    stop = min((i for m in _UNLESS_ENDS if (i := after.find(m)) >= 0), default=len(after))
    before, after = before[cut:], after[:stop]
    match = data[start:end]
    if rule.unless is not None and _search(rule.unless, before + match + after, 0) is not None:
        return True
    before_words = before.split(b" ")
    after_words = after.split(b" ")
    for words, count_before, count_after in rule.unless_near:
        # Normalised text has single spaces, so the piece next to the match is "" when a space
        # separates them; keeping it keeps the word boundary, and one more word is taken.
        window = (
            b" ".join(
                before_words[max(0, len(before_words) - count_before - 1) :] if count_before else []
            )
            + match
            + b" ".join(after_words[: count_after + 1] if count_after else [])
        )
        if _search(words, window, 0) is not None:
            return True
    return False


def _one_language_per_span(fired: list[tuple[Rule, Span]]) -> list[tuple[Rule, Span]]:
    """Drop a match whose words another language's stronger rule already matched.

    Without a language every language's rules run, and shared words ("gift cards" is English
    and Hinglish) would score twice. Where matches of two languages overlap, only the rule with
    the most points counts (then the longer match, then the language code's order); matches of
    the same language are left alone, as with one language's rules.
    """
    ranked = sorted(
        fired, key=lambda f: (-f[0].points, -(f[1].end - f[1].start), f[0].language, f[1].start)
    )
    kept: list[tuple[Rule, Span]] = []
    for found in ranked:
        rule, span = found
        if not any(
            other.language != rule.language and span.start < seen.end and seen.start < span.end
            for other, seen in kept
        ):
            kept.append(found)
    return [found for found in fired if found in kept]


def _search(matcher: Matcher, data: bytes, position: int) -> tuple[int, int] | None:
    """The first non-empty match (group 1 or 2) at or after position."""
    while position <= len(data):
        match = matcher.regex.search(data, position)
        if match is None:
            return None
        start, end = match.span(1)
        if start < 0:
            start, end = match.span(2)
        if end > start:
            return start, end
        position = max(match.end(), position + 1)  # an empty regex match: move on
    return None


def _all(matcher: Matcher, data: bytes) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    position = 0
    while len(found) < MAX_MATCHES_PER_RULE:
        hit = _search(matcher, data, position)
        if hit is None:
            break
        found.append(hit)
        position = hit[1]
    return found


def _span(norm: Normalised, data: bytes, start: int, end: int) -> Span:
    if len(data) != len(norm.text):  # non-ASCII: byte offsets differ from character offsets
        start, end = len(data[:start].decode()), len(data[:end].decode())
    original_start, original_end = norm.original_range(start, end)
    # A pattern may take the space before or after its words; the span shown is the words alone.
    text = norm.original[original_start:original_end]
    stripped = text.strip()
    if stripped and stripped != text:
        original_start += len(text) - len(text.lstrip())
        original_end -= len(text) - len(text.rstrip())
        text = stripped
    return Span(original_start, original_end, text)


# --- scoring.yaml --------------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise RuleError(path, 0, f"cannot read: {error.strerror}") from None


def _load_scoring(path: Path, data: bytes) -> Scoring:
    document = load_yaml(path, data)

    def fail(line: int, reason: str) -> RuleError:
        return RuleError(path, line, reason)

    def require_mapping(node: Mapping, key: str) -> Mapping:
        if key not in node:
            raise fail(node.line, f"missing field {key!r}")
        value = node[key]
        if not isinstance(value, Mapping):
            raise fail(node.lines[key], f"{key} must be a mapping")
        return value

    def points(node: Mapping, key: str, low: int = 0) -> int:
        value = node[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 100:
            raise fail(node.lines[key], f"{key} must be a whole number from {low} to 100")
        return value

    allowed = {"version", "thresholds", "family_caps", "combinations", "signals"}
    for key in document:
        if key not in allowed:
            raise fail(document.lines[key], f"unknown key {key!r}")
    thresholds_node = require_mapping(document, "thresholds")
    if set(thresholds_node) != {"P1", "P2", "P3"}:
        raise fail(thresholds_node.line, "thresholds needs exactly P1, P2 and P3")
    thresholds = tuple((Tier(t), points(thresholds_node, t, 1)) for t in ("P1", "P2", "P3"))
    if not thresholds[0][1] > thresholds[1][1] > thresholds[2][1]:
        raise fail(thresholds_node.line, "thresholds must fall from P1 to P3")
    caps_node = require_mapping(document, "family_caps")
    if set(caps_node) != set(FAMILIES):
        raise fail(caps_node.line, f"family_caps needs exactly: {', '.join(FAMILIES)}")
    caps = {family: points(caps_node, family, 1) for family in FAMILIES}
    combinations = []
    combination_nodes = document.get("combinations", Sequence_())
    if not isinstance(combination_nodes, Sequence_):
        raise fail(document.lines["combinations"], "combinations must be a list")
    for node, line in zip(combination_nodes, getattr(combination_nodes, "lines", []), strict=True):
        if not isinstance(node, Mapping) or set(node) != {
            "id",
            "families",
            "points",
            "tier",
            "detail",
        }:
            raise fail(line, "a combination has exactly id, families, points, tier, detail")
        families = node["families"]
        if (
            not isinstance(families, list)
            or len(families) < 2
            or not set(families) <= set(FAMILIES)
        ):
            raise fail(node.lines["families"], "families must list two or more known families")
        if node["tier"] not in {t.value for t in Tier}:
            raise fail(node.lines["tier"], "tier must be one of P1..P4")
        if not isinstance(node["id"], str) or not node["id"].startswith("combo."):
            raise fail(node.lines["id"], "a combination id starts with 'combo.'")
        combinations.append(
            Combination(
                id=node["id"],
                families=frozenset(families),
                points=points(node, "points"),
                tier=Tier(node["tier"]),
                detail=str(node["detail"]),
            )
        )
    signals_node = require_mapping(document, "signals")
    for key in signals_node:
        if not key.startswith("signal."):
            raise fail(signals_node.lines[key], f"signal {key!r} must start with 'signal.'")
    signals = {key: points(signals_node, key) for key in signals_node}
    return Scoring(thresholds, caps, tuple(combinations), signals)


# --- the platform's engine ----------------------------------------------------------------


def rule_files() -> list[Path]:
    """The shipped rule files, then the hotline's own (``TIPLINE_TRIAGE_RULES_DIR``, if set)."""
    from django.conf import settings

    files = sorted((DATA / "rules").glob("*.yaml"))
    extra = getattr(settings, "TIPLINE_TRIAGE_RULES_DIR", "")
    if extra:
        files += sorted(Path(extra).glob("*.yaml"))
    return files


@functools.cache
def load() -> Engine:
    """The engine over the rule and scoring files, built once; raises RuleError on a bad file."""
    return Engine.from_files(rule_files(), DATA / "scoring.yaml")


def score(text: str, *, lang: str | None = None, signals: Sequence[Signal] = ()) -> Score:
    return load().score(text, lang=lang, signals=signals)


def score_messages(texts: Sequence[str], lang: str | None = None) -> list[Score]:
    return load().score_messages(texts, lang=lang)


def signal(rule: str, detail: str = "") -> Signal:
    return load().signal(rule, detail)


def describe(rule: str) -> str:
    return load().describe(rule)
