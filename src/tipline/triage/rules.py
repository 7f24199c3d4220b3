"""Load and validate triage rule files (schema: data/rules/README.md).

A rule file is data that analysts and translators edit, so every mistake is reported as
`path:line: reason` and stops the platform at start-up: a rule that silently never fires would
leave urgent reports at the bottom of the queue. Only `yaml.SafeLoader` constructs are accepted.

Patterns are compiled with RE2 (linear time, no back-references), so no rule and no report text
can make matching slow. Phrases and negators are normalised the same way report text is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2

from tipline import yamlfile
from tipline.triage.normalise import normalise
from tipline.triage.tiers import Tier
from tipline.yamlfile import DataFileError, InvalidAt, Mapping, Sequence_

FAMILIES = (
    "imminent_danger",
    "location_shared",
    "sextortion",
    "grooming",
    "threat",
    "self_harm",
    "minor_indicator",
    "repeat_contact",
)
# Grammar rules (issue 20) list a verb's inflections and markers in one alternation; RE2 stays
# linear whatever the length, and the limit only keeps a rule readable in review.
MAX_REGEX_LENGTH = 2000
MAX_NEAR_WITHIN = 50

_TOP_KEYS = {"language", "version", "negators", "conditionals", "rules"}
_RULE_REQUIRED = ("id", "version", "family", "language", "description", "source", "points")
_RULE_OPTIONAL = {"tier", "negation", "unless", "unless_near", "phrases", "regex", "near"}
_MATCHERS = ("phrases", "regex", "near")
_NEAR_KEYS = {"a", "b", "within"}
_UNLESS_NEAR_KEYS = {"before", "after", "words"}
# `unless_near` words cancel a match only this close to it: a threat next to the word "game"
# elsewhere in its sentence is still a threat (issue 20, third pass).
MAX_UNLESS_NEAR_WORDS = 10

# A word character in any script: letters, digits, combining marks (Devanagari vowel signs).
_WORD = r"\pL\pN\pM"
_BOUNDARY_BEFORE = rf"(?:^|[^{_WORD}])"
_BOUNDARY_AFTER = rf"(?:[^{_WORD}]|$)"
# Between the words of a phrase: spaces and punctuation (ASCII, the General Punctuation block,
# Devanagari dandas). Narrower than "not a word character", which would make each phrase a
# large Unicode class per word and rule loading slow; normalised text has single spaces anyway.
_SEPARATOR = r"[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e\x{2010}-\x{205e}\x{0964}\x{0965}]+"

RE2_OPTIONS = re2.Options()
RE2_OPTIONS.max_mem = 64 << 20
# The engine's combined set of every rule: RE2 only reserves what it needs, and a set that ran
# out of DFA memory would stop matching silently, so its budget is generous.
RE2_SET_OPTIONS = re2.Options()
RE2_SET_OPTIONS.max_mem = 512 << 20


class RuleError(DataFileError):
    """A mistake in a rule or scoring file; str() is `path:line: reason`."""


# Raised inside a document's checks; load() attaches the file's path.
_Invalid = InvalidAt


def load_yaml(path: Path, data: bytes) -> Mapping:
    """Parse one file with SafeLoader semantics, raising RuleError with the file and line."""
    return yamlfile.load_yaml(path, data, error=RuleError)


# --- compiled rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matcher:
    """One compiled alternation; group 1 (phrases) or group 2 (regexes) is the match."""

    pattern: str
    regex: Any  # re2._Regexp over UTF-8 bytes
    # A looser pattern (no word boundaries, ASCII separators) for the engine's combined RE2 set:
    # it matches wherever `pattern` does, and keeps the set small enough to compile and to run
    # as one DFA over the whole text.
    prefilter: str


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    family: str
    language: str
    description: str
    source: str
    points: int
    tier: Tier | None
    negation: bool
    kind: str  # "phrases", "regex" or "near"
    phrases: tuple[str, ...]  # as written, for tests and documentation
    matcher: Matcher  # phrases/regex: the rule; near: the `a` side
    near_b: Matcher | None = None
    within: int = 0
    # Words that, anywhere in the match's sentence, cancel it (an idiom, news, a court report).
    unless: Matcher | None = None
    # Groups of words that cancel it only close to the match, in its sentence (game talk,
    # "lol", a film): each group is (words, how many words before, how many after the match).
    unless_near: tuple[tuple[Matcher, int, int], ...] = ()
    path: str = ""
    line: int = 0


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    negators: dict[str, Matcher]  # language -> matcher over the negator words
    languages: tuple[str, ...]
    version: str  # short SHA-256 over the files' names and bytes
    # language -> words that open a condition ("if", "agar"): a negator inside a condition
    # ("if you don't pay, I will ...") does not cancel what follows. Files without them: none.
    conditionals: dict[str, Matcher] = field(default_factory=dict)


def load(paths: Iterable[str | Path]) -> RuleSet:
    """Load and validate rule files; raise RuleError on the first mistake."""
    rules: list[Rule] = []
    negators: dict[str, Matcher] = {}
    conditionals: dict[str, Matcher] = {}
    seen: dict[str, str] = {}
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        data = _read(path)
        digest.update(path.name.encode() + b"\0" + data + b"\0")
        language, file_negators, file_conditionals, file_rules = _load_file(path, data)
        if language in negators:
            raise RuleError(path, 1, f"a second file for language {language!r}")
        negators[language] = file_negators
        if file_conditionals is not None:
            conditionals[language] = file_conditionals
        for rule in file_rules:
            if rule.id in seen:
                raise RuleError(
                    path, rule.line, f"duplicate rule id {rule.id!r} (also in {seen[rule.id]})"
                )
            seen[rule.id] = f"{path}:{rule.line}"
            rules.append(rule)
    return RuleSet(
        rules=tuple(rules),
        negators=negators,
        languages=tuple(sorted(negators)),
        version=digest.hexdigest()[:12],
        conditionals=conditionals,
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise RuleError(path, 0, f"cannot read: {error.strerror}") from None


def _load_file(path: Path, data: bytes) -> tuple[str, Matcher, Matcher | None, list[Rule]]:
    document = load_yaml(path, data)
    try:
        _check_keys(document, required=("language", "version", "rules"), allowed=_TOP_KEYS)
        language = _text(document, "language")
        if not language.isascii() or not language.isalpha() or len(language) > 8:
            raise _Invalid(document.lines["language"], f"bad language code {language!r}")
        if path.stem != language:
            raise _Invalid(document.lines["language"], f"language {language!r} in {path.name}")
        _integer(document, "version", 1, 1_000_000)
        negator_words = _text_list(document, "negators") if "negators" in document else []
        negators = _compile_phrases(negator_words, document.lines.get("negators", 1))
        conditionals = None
        if "conditionals" in document:
            conditionals = _compile_phrases(
                _text_list(document, "conditionals"), document.lines["conditionals"]
            )
        rule_nodes = document["rules"]
        if not isinstance(rule_nodes, Sequence_) or not rule_nodes:
            raise _Invalid(document.lines["rules"], "rules must be a non-empty list")
        rules = []
        for item, line in zip(rule_nodes, rule_nodes.lines, strict=True):
            if not isinstance(item, Mapping):
                raise _Invalid(line, "each rule must be a mapping")
            rules.append(_rule(item, language, str(path)))
    except _Invalid as error:
        raise RuleError(path, error.line, error.reason) from None
    return language, negators, conditionals, rules


def _rule(node: Mapping, language: str, path: str) -> Rule:
    _check_keys(node, required=_RULE_REQUIRED, allowed=set(_RULE_REQUIRED) | _RULE_OPTIONAL)
    rule_id = _text(node, "id")
    if not rule_id.startswith(f"{language}.") or not all(
        part and (part.isascii() and part.replace("_", "").isalnum()) for part in rule_id.split(".")
    ):
        raise _Invalid(
            node.lines["id"], f"id {rule_id!r} must be '{language}.' then dotted lowercase words"
        )
    if _text(node, "language") != language:
        raise _Invalid(
            node.lines["language"], f"rule language differs from the file's {language!r}"
        )
    family = _text(node, "family")
    if family not in FAMILIES:
        raise _Invalid(
            node.lines["family"], f"unknown family {family!r}; one of {', '.join(FAMILIES)}"
        )
    tier = None
    if "tier" in node:
        try:
            tier = Tier(node["tier"])
        except ValueError:
            raise _Invalid(
                node.lines["tier"], f"tier must be one of P1..P4, not {node['tier']!r}"
            ) from None
    negation = node.get("negation", True)
    if not isinstance(negation, bool):
        raise _Invalid(node.lines["negation"], "negation must be true or false")
    present = [key for key in _MATCHERS if key in node]
    if len(present) != 1:
        raise _Invalid(
            node.line,
            f"a rule needs exactly one of {', '.join(_MATCHERS)}; has {present or 'none'}",
        )
    kind = present[0]
    phrases: list[str] = []
    near_b = None
    within = 0
    if kind == "phrases":
        phrases = _text_list(node, "phrases")
        matcher = _compile_phrases(phrases, node.lines["phrases"])
    elif kind == "regex":
        matcher = _compile_items([], [_text(node, "regex")], node.lines["regex"])
    else:
        near = node["near"]
        if not isinstance(near, Mapping):
            raise _Invalid(node.lines["near"], "near must be a mapping with a, b and within")
        _check_keys(near, required=("a", "b", "within"), allowed=_NEAR_KEYS)
        within = _integer(near, "within", 1, MAX_NEAR_WITHIN)
        matcher = _near_side(near, "a")
        near_b = _near_side(near, "b")
    unless = _near_side(node, "unless") if "unless" in node else None
    unless_near = _unless_near(node) if "unless_near" in node else ()
    return Rule(
        id=rule_id,
        version=_integer(node, "version", 1, 1_000_000),
        family=family,
        language=language,
        description=_text(node, "description"),
        source=_text(node, "source"),
        points=_integer(node, "points", 1, 100),
        tier=tier,
        negation=negation,
        kind=kind,
        phrases=tuple(phrases),
        matcher=matcher,
        near_b=near_b,
        within=within,
        unless=unless,
        unless_near=unless_near,
        path=path,
        line=node.line,
    )


def _unless_near(node: Mapping) -> tuple[tuple[Matcher, int, int], ...]:
    """`unless_near`: a list of groups {before: N, after: M, words: [...]}."""
    groups = node["unless_near"]
    if not isinstance(groups, Sequence_) or not groups:
        raise _Invalid(node.lines["unless_near"], "unless_near must be a non-empty list of groups")
    found = []
    for group, line in zip(groups, groups.lines, strict=True):
        if not isinstance(group, Mapping):
            raise _Invalid(line, "an unless_near group is a mapping with before, after and words")
        _check_keys(group, required=("before", "after", "words"), allowed=_UNLESS_NEAR_KEYS)
        before = _integer(group, "before", 0, MAX_UNLESS_NEAR_WORDS)
        after = _integer(group, "after", 0, MAX_UNLESS_NEAR_WORDS)
        found.append((_near_side(group, "words"), before, after))
    return tuple(found)


def _near_side(near: Mapping, key: str) -> Matcher:
    """A list of phrases and {regex: ...} items (near.a, near.b, unless) as one matcher."""
    items = near[key]
    name = {"unless": "unless", "words": "unless_near.words"}.get(key, f"near.{key}")
    if not isinstance(items, Sequence_) or not items:
        raise _Invalid(near.lines[key], f"{name} must be a non-empty list")
    phrases: list[str] = []
    regexes: list[str] = []
    for item, line in zip(items, items.lines, strict=True):
        if isinstance(item, str) and item.strip():
            phrases.append(item)
        elif (
            isinstance(item, Mapping) and set(item) == {"regex"} and isinstance(item["regex"], str)
        ):
            _check_regex(item["regex"], line)
            regexes.append(item["regex"])
        else:
            raise _Invalid(line, f"{name} items are phrases or {{regex: '...'}}, not {item!r}")
    return _compile_items(phrases, regexes, near.lines[key])


# --- patterns ----------------------------------------------------------------------------------


def phrase_pattern(phrase: str, separator: str = _SEPARATOR) -> str:
    """RE2 source for one phrase over normalised text (without the word boundaries)."""
    words = normalise(phrase).text.split()
    return separator.join(re2.escape(word).replace("'", "'?") for word in words)


def _compile_phrases(phrases: Sequence[str], line: int) -> Matcher:
    return _compile_items(phrases, [], line)


def _compile_items(phrases: Sequence[str], regexes: Sequence[str], line: int) -> Matcher:
    for regex in regexes:
        _check_regex(regex, line)
    kept = [p for p in phrases if normalise(p).text.strip()]
    if phrases and not kept:
        raise _Invalid(line, "phrases are empty after normalisation")
    alternatives = sorted({phrase_pattern(p) for p in kept}, key=len, reverse=True)
    loose = sorted({phrase_pattern(p, "[^a-z0-9]+") for p in kept}, key=len, reverse=True)
    # Group 1 is a phrase, group 2 a regex; "\\b\\B" never matches and keeps the numbering.
    phrase_part = "|".join(alternatives) or "\\b\\B"
    pattern = f"{_BOUNDARY_BEFORE}({phrase_part}){_BOUNDARY_AFTER}"
    if regexes:
        pattern += "|(" + "|".join(f"(?:{r})" for r in regexes) + ")"
    prefilter = "|".join(loose + [f"(?:{r})" for r in regexes])
    try:
        compiled = re2.compile(pattern.encode(), RE2_OPTIONS)
    except re2.error as error:
        raise _Invalid(line, f"pattern does not compile: {error}") from None
    return Matcher(pattern=pattern, regex=compiled, prefilter=prefilter)


def _check_regex(regex: str, line: int) -> None:
    if not regex:
        raise _Invalid(line, "regex is empty")
    if len(regex) > MAX_REGEX_LENGTH:
        raise _Invalid(line, f"regex is {len(regex)} characters; the limit is {MAX_REGEX_LENGTH}")
    try:
        compiled = re2.compile(regex.encode(), RE2_OPTIONS)
    except re2.error as error:
        raise _Invalid(line, f"regex does not compile (RE2 syntax): {error}") from None
    if compiled.search(b"") is not None:
        raise _Invalid(line, "regex matches empty text")


# --- field checks ------------------------------------------------------------------------------


def _check_keys(node: Mapping, *, required: Sequence[str], allowed: set[str]) -> None:
    for key in node:
        if key not in allowed:
            raise _Invalid(
                node.lines[key], f"unknown key {key!r}; allowed: {', '.join(sorted(allowed))}"
            )
    for key in required:
        if key not in node:
            raise _Invalid(node.line, f"missing field {key!r}")


def _text(node: Mapping, key: str) -> str:
    value = node[key]
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(node.lines[key], f"{key} must be non-empty text")
    return value


def _integer(node: Mapping, key: str, low: int, high: int) -> int:
    value = node[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _Invalid(
            node.lines[key], f"{key} must be a whole number from {low} to {high}, not {value!r}"
        )
    return value


def _text_list(node: Mapping, key: str) -> list[str]:
    value = node[key]
    if not isinstance(value, Sequence_) or not value:
        raise _Invalid(node.lines[key], f"{key} must be a non-empty list")
    for item, line in zip(value, value.lines, strict=True):
        if not isinstance(item, str) or not item.strip():
            raise _Invalid(line, f"{key} items must be non-empty text, not {item!r}")
    return list(value)
