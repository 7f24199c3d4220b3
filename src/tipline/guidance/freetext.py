"""Reading a reporter's own words: which form and advice to offer (issue 20, free-text help).

The assistant's first step lets someone describe what is happening instead of answering
questions. The text is read here, on the server, in memory only: nothing is stored or logged,
and the reading never sets a report's priority (triage does that once a report is filed).

How it decides (``data/freetext.yaml``):
- the triage engine scores the text; each rule family that fired votes for a category with its
  points, and every distinct cue phrase of a category adds ``cue_points``;
- the text reads as **urgent** when triage gives P1 or an imminent-danger or self-harm rule fired:
  the emergency numbers come first, whatever the category;
- the top category is **recognised** when no other has ``ambiguous_share`` of its votes;
  otherwise the reading is **ambiguous** and the reporter is offered the close ones, never a guess;
  with no votes at all it is **unknown** and every category is offered.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from tipline.cases import categories
from tipline.guidance import assistant
from tipline.guidance.datafile import DATA_DIR, GuidanceDataError, Reader, load_yaml
from tipline.triage import engine
from tipline.triage.tiers import Tier

PATH = DATA_DIR / "freetext.yaml"
LANGUAGES = ("en", "fr", "hi")
# Families of triage rules that mean "right now" whatever the category.
URGENT_FAMILIES = frozenset({"imminent", "self_harm"})
# Families that say the person at risk is a child.
CHILD_FAMILIES = frozenset({"minor"})
CHILD_CATEGORIES = frozenset({"child_in_danger", "csam", "luring"})
# Longer than any form's text field: anything longer is cut to this before reading.
MAX_TEXT = 5000
# Letters of the scripts we read, so a cue matches whole words only (Devanagari vowel signs are
# not word characters to Python's re).
_LETTER = r"\w\u0900-\u097F'"


@dataclass(frozen=True)
class Rules:
    cue_points: int
    ambiguous_share: float
    families: dict[str, str]
    endings: dict[str, str]
    urgent_endings: dict[str, str]
    cues: dict[str, dict[str, re.Pattern[str]]]  # category -> language -> one alternation


@dataclass(frozen=True)
class Reading:
    kind: str  # "recognised", "ambiguous" or "unknown"
    urgent: bool
    offered: tuple[str, ...]  # category codes offered first, best first
    ending: str  # the assistant.yaml ending to show beside it ("" when none)
    votes: dict[str, int] = field(default_factory=dict)

    @property
    def category(self) -> str:
        return self.offered[0] if self.kind == "recognised" else ""


def fold(text: str) -> str:
    """The text as cues are matched: NFKC, case-folded, one kind of apostrophe, single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return " ".join(text.split())


def _alternation(path: Path | str, phrases: list[tuple[str, int]]) -> re.Pattern[str]:
    if not phrases:
        raise GuidanceDataError(path, 1, "a cue list is empty")
    # Longest first, so "abuse images" wins over a shorter cue inside it.
    phrases = sorted(phrases, key=lambda item: -len(item[0]))
    body = "|".join(re.escape(fold(phrase)) for phrase, _line in phrases)
    return re.compile(rf"(?<![{_LETTER}])(?:{body})(?![{_LETTER}])")


def parse(path: Path | str, text: str) -> Rules:
    root = Reader(path, load_yaml(path, text))
    root.only(
        "version", "cue_points", "ambiguous_share", "families", "endings", "urgent_endings", "cues"
    )
    tree = assistant.load()
    codes = set(categories.CODES)

    def mapping(key: str, *, values: set[str], keys: set[str] | None = None) -> dict[str, str]:
        section = root.section(key)
        out: dict[str, str] = {}
        for name in section.mapping:
            value = section.text(name)
            if keys is not None and name not in keys:
                raise section.fail(name, "unknown name")
            if value not in values:
                raise section.fail(name, f"unknown value {value!r}")
            out[name] = value
        return out

    cues: dict[str, dict[str, re.Pattern[str]]] = {}
    section = root.section("cues")
    for code in section.mapping:
        if code not in codes:
            raise section.fail(code, "unknown category")
        by_language = section.section(code)
        by_language.only(*LANGUAGES)
        cues[code] = {
            language: _alternation(path, by_language.strings(language))
            for language in by_language.mapping
        }
    endings = mapping("endings", values=set(tree.endings), keys=codes)
    missing = codes - set(endings)
    if missing:
        raise root.fail("endings", f"no ending for {', '.join(sorted(missing))}")
    return Rules(
        cue_points=_number(root, "cue_points"),
        ambiguous_share=_number(root, "ambiguous_share", as_float=True),
        families=mapping("families", values=codes),
        endings=endings,
        urgent_endings=mapping(
            "urgent_endings", values=set(tree.endings), keys=codes | {"default", "default_child"}
        ),
        cues=cues,
    )


def _number(root: Reader, key: str, *, as_float: bool = False) -> int:
    value = root.mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise root.fail(key, "must be a positive number")
    return value if as_float else int(value)  # type: ignore[return-value]


@functools.cache
def load() -> Rules:
    return parse(PATH.relative_to(DATA_DIR.parent.parent.parent.parent), PATH.read_text("utf-8"))


@functools.cache
def _families() -> dict[str, str]:
    return {rule.id: rule.family for rule in engine.load().ruleset.rules}


def read(text: str, language: str) -> Reading:
    """What the text seems to be about. ``language`` is the page's; cues of every language are
    looked for, since people write in the language they think in."""
    rules = load()
    text = text[:MAX_TEXT]
    score = engine.score(text) if text.strip() else None
    families = _families()
    fired: dict[str, int] = {}
    for reason in score.reasons if score else ():
        family = families.get(reason.rule)
        if family:
            fired[family] = fired.get(family, 0) + reason.points
    votes: dict[str, int] = {}
    for family, points in fired.items():
        if family in rules.families:
            code = rules.families[family]
            votes[code] = votes.get(code, 0) + points
    folded = fold(text)
    for code, by_language in rules.cues.items():
        found = {m.group(0) for pattern in by_language.values() for m in pattern.finditer(folded)}
        if found:
            votes[code] = votes.get(code, 0) + rules.cue_points * len(found)
    ranked = sorted(votes, key=lambda code: (-votes[code], categories.CODES.index(code)))
    offered: tuple[str, ...] = ()
    if not ranked:
        kind = "unknown"
    else:
        top = votes[ranked[0]]
        close = tuple(code for code in ranked if votes[code] >= top * rules.ambiguous_share)
        kind, offered = ("recognised", close) if len(close) == 1 else ("ambiguous", close)
    urgent = (
        bool(score and score.tier == Tier.P1)
        or bool(URGENT_FAMILIES & set(fired))
        or (kind == "recognised" and categories.get(offered[0]).emergency_first)
    )
    child = bool(CHILD_FAMILIES & set(fired)) or bool(CHILD_CATEGORIES & set(offered[:1]))
    return Reading(
        kind=kind,
        urgent=urgent,
        offered=offered,
        ending=_ending(rules, kind, offered, urgent=urgent, child=child),
        votes=votes,
    )


def _ending(rules: Rules, kind: str, offered: tuple[str, ...], *, urgent: bool, child: bool) -> str:
    top = offered[0] if kind == "recognised" else ""
    if urgent:
        if top in rules.urgent_endings:
            return rules.urgent_endings[top]
        return rules.urgent_endings["default_child" if child else "default"]
    return rules.endings[top] if top else ""
