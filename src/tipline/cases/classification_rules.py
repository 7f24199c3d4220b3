"""Which classification each category asks, what a decision needs first, and suggestions taken
from the reporter's answers: read from ``data/classification.toml``.

Facts before decisions: a referral, a takedown notice or a forward asserts that something is
illegal, and so does any decision on content assessed as baseline or national. Such a decision
on an empty classification would send police or a host an assertion nobody made, and leave
metrics that count by legal assessment with holes. ``missing_for`` answers what is still unset;
``tipline.cases.transitions.report_decide`` refuses while anything is, so the console, the API
and the CLI cannot differ.

Rules are data so a hotline can match its own practice (a national referral form that needs
the platform, say) without code. The file is validated when first read, at start
(``tipline.cases.apps``): an unknown category, field, outcome or code is an error.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from tipline.cases import categories
from tipline.cases.classification import ILLEGAL, VOCABULARIES, LegalAssessment
from tipline.cases.states import Outcome

# Free-text answers are short (MAX_SHORT), but never scan more than this of whatever is stored.
_SCAN_LIMIT = 2000


class ClassificationConfigError(ValueError):
    """classification.toml is malformed; the message names the table and key."""


@dataclass(frozen=True)
class Needs:
    always: tuple[str, ...]
    if_illegal: tuple[str, ...]


@dataclass(frozen=True)
class Prefill:
    field: str
    answer: str
    codes: dict[str, str]  # reporter's answer -> code
    words: tuple[tuple[str, re.Pattern[str]], ...]  # (code, pattern of its words)

    def suggest(self, answer: object) -> str:
        if not isinstance(answer, str) or not answer:
            return ""
        if self.codes:
            return self.codes.get(answer, "")
        text = answer[:_SCAN_LIMIT].casefold()
        found = {code for code, pattern in self.words if pattern.search(text)}
        return found.pop() if len(found) == 1 else ""


@dataclass(frozen=True)
class Rules:
    fields: dict[str, tuple[str, ...]]  # category code (or "default") -> field names
    asserting: frozenset[Outcome]
    needs: dict[str, Needs]  # category code (or "default") -> what a decision needs
    prefill: tuple[Prefill, ...]

    def fields_for(self, category: str) -> tuple[str, ...]:
        return self.fields.get(category, self.fields["default"])

    def needs_for(self, category: str) -> Needs:
        return self.needs.get(category, self.needs["default"])


def asserts_illegality(rules: Rules, outcome: str, classification: Mapping[str, str]) -> bool:
    return outcome in rules.asserting or classification.get("legal_assessment") in ILLEGAL


def missing_for(
    *, category: str, outcome: str, classification: Mapping[str, str], rules: Rules | None = None
) -> list[str]:
    """The classification fields still unset before this decision (empty: it may be proposed)."""
    rules = rules or load()
    if not asserts_illegality(rules, outcome, classification):
        return []
    needs = rules.needs_for(category)
    wanted = list(needs.always)
    if classification.get("legal_assessment") != LegalAssessment.NOT_ILLEGAL:
        wanted += [name for name in needs.if_illegal if name not in wanted]
    return [name for name in wanted if not classification.get(name)]


def missing_before_asserting(category: str, classification: Mapping[str, str]) -> list[str]:
    """What a referral would still need now: shown beside the decision form before anyone tries."""
    return missing_for(category=category, outcome=Outcome.REFERRED, classification=classification)


def suggestions(
    category: str, details: Mapping[str, Any], current: Mapping[str, str]
) -> dict[str, str]:
    """Codes suggested by the reporter's answers for this category's fields that are unset."""
    rules = load()
    shown = set(rules.fields_for(category))
    found: dict[str, str] = {}
    for rule in rules.prefill:
        if rule.field not in shown or current.get(rule.field) or rule.field in found:
            continue
        code = rule.suggest(details.get(rule.answer))
        if code:
            found[rule.field] = code
    return found


# --- reading the file ----------------------------------------------------------------------------


def _names(where: str, value: Any, *, allow_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not (value or allow_empty):
        raise ClassificationConfigError(f"{where}: a list of field names")
    for name in value:
        if name not in VOCABULARIES:
            raise ClassificationConfigError(f"{where}: no classification field {name!r}")
    if len(set(value)) != len(value):
        raise ClassificationConfigError(f"{where}: a field is listed twice")
    return tuple(value)


def _category(where: str, name: str) -> None:
    if name != "default" and name not in categories.CODES:
        raise ClassificationConfigError(f"{where}.{name}: no such category")


def _words_pattern(where: str, words: Any) -> re.Pattern[str]:
    if (
        not isinstance(words, list)
        or not words
        or not all(isinstance(w, str) and w.strip() for w in words)
    ):
        raise ClassificationConfigError(f"{where}: a list of words")
    alternatives = "|".join(re.escape(w.strip().casefold()) for w in words)
    # Whole words only: "ig" must not match inside "big".
    return re.compile(rf"(?<![\w.])(?:{alternatives})(?![\w])")


def _prefill(i: int, entry: Any) -> Prefill:
    where = f"[[prefill]] entry {i + 1}"
    if not isinstance(entry, dict) or not {"field", "answer"} <= set(entry):
        raise ClassificationConfigError(f"{where}: needs field and answer")
    if set(entry) - {"field", "answer", "codes", "words"} or ("codes" in entry) == (
        "words" in entry
    ):
        raise ClassificationConfigError(f"{where}: give exactly one of codes or words")
    field, answer = entry["field"], entry["answer"]
    vocabulary = VOCABULARIES.get(field)
    if vocabulary is None:
        raise ClassificationConfigError(f"{where}: no classification field {field!r}")
    if not isinstance(answer, str) or not answer:
        raise ClassificationConfigError(f"{where}: answer names a field of the reporter's form")
    table = entry.get("codes") or entry.get("words")
    if not isinstance(table, dict) or not table:
        raise ClassificationConfigError(f"{where}: codes or words is a table")
    if "codes" in entry:
        for code in table.values():
            if code not in vocabulary.values:
                raise ClassificationConfigError(f"{where}: {code!r} is not a {field} code")
        return Prefill(field=field, answer=answer, codes=dict(table), words=())
    patterns = []
    for code, words in table.items():
        if code not in vocabulary.values:
            raise ClassificationConfigError(f"{where}: {code!r} is not a {field} code")
        patterns.append((code, _words_pattern(f"{where}.words.{code}", words)))
    return Prefill(field=field, answer=answer, codes={}, words=tuple(patterns))


def parse(text: str) -> Rules:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClassificationConfigError(f"not valid TOML: {exc}") from None
    unknown = set(doc) - {"fields", "decision", "prefill"}
    if unknown:
        raise ClassificationConfigError(f"unknown table(s): {', '.join(sorted(unknown))}")
    fields_doc = doc.get("fields")
    if not isinstance(fields_doc, dict) or "default" not in fields_doc:
        raise ClassificationConfigError("[fields] needs a default list")
    fields = {}
    for name, value in fields_doc.items():
        _category("[fields]", name)
        fields[name] = _names(f"[fields] {name}", value)
    decision = doc.get("decision")
    if not isinstance(decision, dict) or set(decision) != {"asserting_outcomes", "needs"}:
        raise ClassificationConfigError("[decision] sets exactly asserting_outcomes and needs")
    outcomes = decision["asserting_outcomes"]
    if not isinstance(outcomes, list) or not all(o in Outcome.values for o in outcomes):
        raise ClassificationConfigError("[decision] asserting_outcomes: a list of outcome codes")
    needs_doc = decision["needs"]
    if not isinstance(needs_doc, dict) or "default" not in needs_doc:
        raise ClassificationConfigError("[decision.needs] needs a default table")
    needs = {}
    for name, entry in needs_doc.items():
        where = f"[decision.needs.{name}]"
        _category("[decision.needs]", name)
        if not isinstance(entry, dict) or set(entry) != {"always", "if_illegal"}:
            raise ClassificationConfigError(f"{where} sets exactly always and if_illegal")
        needs[name] = Needs(
            always=_names(f"{where} always", entry["always"], allow_empty=True),
            if_illegal=_names(f"{where} if_illegal", entry["if_illegal"], allow_empty=True),
        )
    prefill_doc = doc.get("prefill", [])
    if not isinstance(prefill_doc, list):
        raise ClassificationConfigError("[[prefill]] is an array of tables")
    prefill = tuple(_prefill(i, entry) for i, entry in enumerate(prefill_doc))
    return Rules(
        fields=fields,
        asserting=frozenset(Outcome(o) for o in outcomes),
        needs=needs,
        prefill=prefill,
    )


@functools.cache
def load() -> Rules:
    path = resources.files("tipline.cases").joinpath("data/classification.toml")
    return parse(path.read_text(encoding="utf-8"))
