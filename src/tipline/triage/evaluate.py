"""How well does triage put reports in the tier an analyst would? Precision, recall, intervals.

The input is a JSONL file of labelled examples, one `{"text", "tier", "lang"}` object a line,
optionally with `family`, `threat` and `script` labels (see `data/README.md`). Two files ship:
`data/dev.jsonl`, the team's own written development set, shows whether a rule change helps or
hurts on cases the team thought of; `data/test.jsonl` is held apart (written before the rule
rebuild of issue 20 and never tuned on) and carries the labels the goals in `goals.py` need.
Neither says how triage does on real reports. The confidence intervals make that visible: with a
few dozen examples a tier, they are wide.

Bad lines are skipped and reported by line number and reason, never with their text (an
evaluation file may one day hold real report text, which must not reach a terminal log by
accident). Only the standard library is used, so the numbers can be checked by hand.
"""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tipline.triage.tiers import Tier

TIERS: tuple[Tier, ...] = (Tier.P1, Tier.P2, Tier.P3, Tier.P4)
DEV_SET = Path(__file__).resolve().parent / "data" / "dev.jsonl"
TEST_SET = Path(__file__).resolve().parent / "data" / "test.jsonl"

# What an example is about, for the goals in `goals.py`; "negative" is a hard negative (an idiom,
# a negated threat, news, a quote, game talk …), "calm" an ordinary sentence.
FAMILIES: tuple[str, ...] = (
    "threat",
    "grooming",
    "sextortion",
    "self_harm",
    "meeting",
    "negative",
    "calm",
)
BENIGN_FAMILIES = frozenset({"negative", "calm"})
MAX_LABEL = 32  # characters of a free-form label such as "kind" or "style"

RESAMPLES = 1000
SEED = 20261126  # fixed, so two runs on the same file print the same intervals
MAX_TEXT = 1_000_000  # characters; the same cap as `tipline triage score`

# A scorer is told the text and the language label of the example (None when the line has none).
Scorer = Callable[[str, str | None], Tier]


@dataclass(frozen=True)
class Example:
    text: str
    tier: Tier
    lang: str | None
    line: int
    # Optional labels (the test set has all three; the development set none).
    family: str | None = None
    threat: bool | None = None  # a threat of violence against a person, made or reported
    script: str | None = None  # for Hindi: "deva" (Devanagari) or "latn" (romanised)


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


@dataclass(frozen=True)
class Parsed:
    examples: tuple[Example, ...]
    bad: tuple[BadLine, ...]


@dataclass(frozen=True)
class TierStats:
    tier: Tier
    support: int  # examples labelled with this tier
    predicted: int  # examples the scorer put in this tier
    correct: int
    # None when undefined: no predictions of the tier (precision), no examples of it (recall).
    precision: float | None
    recall: float | None
    f1: float | None
    precision_ci: tuple[float, float] | None
    recall_ci: tuple[float, float] | None


@dataclass(frozen=True)
class Report:
    tiers: dict[Tier, TierStats]
    # confusion[i][j]: examples labelled TIERS[i] that the scorer put in TIERS[j].
    confusion: tuple[tuple[int, ...], ...]
    examples: int
    skipped: int = 0
    # language -> (examples, exactly right); "?" for examples without a language label.
    by_lang: dict[str, tuple[int, int]] = field(default_factory=dict)
    # (line, labelled tier, predicted tier) for every miss, in file order.
    misses: tuple[tuple[int, Tier, Tier], ...] = ()
    # The scorer's tier for every example, in the order given, for the goals in `goals.py`.
    predicted: tuple[Tier, ...] = ()

    @property
    def accuracy(self) -> float | None:
        right = sum(self.confusion[i][i] for i in range(len(TIERS)))
        return right / self.examples if self.examples else None


# --- input ---------------------------------------------------------------------------------


def _parse_line(raw: bytes, number: int) -> Example | BadLine:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return BadLine(number, "not valid UTF-8")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as error:
        return BadLine(number, f"not valid JSON ({error.msg} at column {error.colno})")
    if not isinstance(obj, dict):
        return BadLine(number, "not a JSON object")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return BadLine(number, '"text" is missing, empty or not a string')
    if len(text) > MAX_TEXT:
        return BadLine(number, f'"text" is longer than {MAX_TEXT:,} characters')
    tier = obj.get("tier")
    if not isinstance(tier, str) or tier not in Tier.__members__:
        return BadLine(number, f'"tier" must be one of {", ".join(TIERS)} (got {tier!r:.20})')
    lang = obj.get("lang")
    if lang is not None and (not isinstance(lang, str) or not lang.isalpha() or len(lang) > 8):
        return BadLine(number, '"lang" must be a language code such as "en", or absent')
    return _labelled(obj, Example(text=text, tier=Tier(tier), lang=lang, line=number))


def _code(value: object) -> bool:
    return isinstance(value, str) and value.isascii() and value.isalpha() and len(value) <= 8


def _labelled(obj: dict[str, Any], example: Example) -> Example | BadLine:
    """Check the optional labels; a contradiction (a calm sentence that is a threat) is refused."""
    number = example.line
    family = obj.get("family")
    if family is not None and family not in FAMILIES:
        return BadLine(number, f'"family" must be one of {", ".join(FAMILIES)}, or absent')
    threat = obj.get("threat")
    if threat is not None and not isinstance(threat, bool):
        return BadLine(number, '"threat" must be true or false, or absent')
    if threat and family in BENIGN_FAMILIES:
        return BadLine(number, f'"threat" cannot be true for a "{family}" example')
    script = obj.get("script")
    if script is not None and not _code(script):
        return BadLine(number, '"script" must be a short code such as "deva", or absent')
    for key in ("kind", "style"):
        value = obj.get(key)
        if value is not None and not (isinstance(value, str) and 0 < len(value) <= MAX_LABEL):
            return BadLine(number, f'"{key}" must be a label of at most {MAX_LABEL} characters')
    return Example(
        text=example.text,
        tier=example.tier,
        lang=example.lang,
        line=number,
        family=family,
        threat=threat,
        script=script,
    )


def parse_jsonl(data: bytes) -> Parsed:
    """Parse labelled examples; blank lines are ignored, bad lines collected with their reason."""
    examples: list[Example] = []
    bad: list[BadLine] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        parsed = _parse_line(raw, number)
        if isinstance(parsed, Example):
            examples.append(parsed)
        else:
            bad.append(parsed)
    return Parsed(examples=tuple(examples), bad=tuple(bad))


def load(path: Path) -> Parsed:
    """Read and parse a JSONL file; raises OSError when it cannot be read."""
    return parse_jsonl(path.read_bytes())


# --- metrics -------------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _counts(pairs: Sequence[tuple[int, int]]) -> list[list[int]]:
    matrix = [[0] * len(TIERS) for _ in TIERS]
    for gold, predicted in pairs:
        matrix[gold][predicted] += 1
    return matrix


def _interval(values: list[float]) -> tuple[float, float] | None:
    """The 2.5th and 97.5th percentiles of the resampled values (percentile bootstrap)."""
    if len(values) < 2:
        return None
    cuts = statistics.quantiles(values, n=40, method="inclusive")
    return cuts[0], cuts[-1]


def _bootstrap(
    pairs: Sequence[tuple[int, int]], resamples: int, seed: int
) -> tuple[list[tuple[float, float] | None], list[tuple[float, float] | None]]:
    """Resample the examples with replacement; a resample where a ratio is undefined is left out."""
    # Not for security: a seeded generator makes the intervals reproducible.
    rng = random.Random(seed)  # noqa: S311
    precisions: list[list[float]] = [[] for _ in TIERS]
    recalls: list[list[float]] = [[] for _ in TIERS]
    n = len(pairs)
    for _ in range(resamples):
        matrix = _counts([pairs[rng.randrange(n)] for _ in range(n)])
        for i in range(len(TIERS)):
            predicted = sum(row[i] for row in matrix)
            support = sum(matrix[i])
            if predicted:
                precisions[i].append(matrix[i][i] / predicted)
            if support:
                recalls[i].append(matrix[i][i] / support)
    return [_interval(v) for v in precisions], [_interval(v) for v in recalls]


def evaluate(
    examples: Iterable[Example],
    scorer: Scorer,
    *,
    skipped: int = 0,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Report:
    """Score every example and compare the tier with its label."""
    index = {tier: i for i, tier in enumerate(TIERS)}
    pairs: list[tuple[int, int]] = []
    by_lang: dict[str, list[int]] = {}
    misses: list[tuple[int, Tier, Tier]] = []
    predictions: list[Tier] = []
    for example in examples:
        predicted = Tier(scorer(example.text, example.lang))
        predictions.append(predicted)
        pairs.append((index[example.tier], index[predicted]))
        tally = by_lang.setdefault(example.lang or "?", [0, 0])
        tally[0] += 1
        if predicted == example.tier:
            tally[1] += 1
        else:
            misses.append((example.line, example.tier, predicted))

    matrix = _counts(pairs)
    precision_ci, recall_ci = _bootstrap(pairs, resamples, seed) if pairs else ([], [])
    stats: dict[Tier, TierStats] = {}
    for i, tier in enumerate(TIERS):
        correct = matrix[i][i]
        support = sum(matrix[i])
        predicted_count = sum(row[i] for row in matrix)
        precision = _ratio(correct, predicted_count)
        recall = _ratio(correct, support)
        stats[tier] = TierStats(
            tier=tier,
            support=support,
            predicted=predicted_count,
            correct=correct,
            precision=precision,
            recall=recall,
            f1=_f1(precision, recall),
            precision_ci=precision_ci[i] if precision_ci else None,
            recall_ci=recall_ci[i] if recall_ci else None,
        )
    return Report(
        tiers=stats,
        confusion=tuple(tuple(row) for row in matrix),
        examples=len(pairs),
        skipped=skipped,
        by_lang={lang: (t[0], t[1]) for lang, t in sorted(by_lang.items())},
        misses=tuple(misses),
        predicted=tuple(predictions),
    )


# --- output --------------------------------------------------------------------------------


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _ci(value: tuple[float, float] | None) -> str:
    if value is None:
        return ""
    mark = "*" if value[0] == value[1] else ""
    return f"[{value[0]:.2f}, {value[1]:.2f}]{mark}"


def _degenerate(report: Report) -> bool:
    return any(
        ci is not None and ci[0] == ci[1]
        for s in report.tiers.values()
        for ci in (s.precision_ci, s.recall_ci)
    )


def render(report: Report) -> str:
    """A plain-text table: per-tier metrics with 95% intervals, then the confusion matrix."""
    lines = [
        f"{'tier':<5}{'support':>8}{'predicted':>10}  {'precision (95% CI)':<22}"
        f"{'recall (95% CI)':<22}{'F1':>5}",
    ]
    for tier in TIERS:
        s = report.tiers[tier]
        lines.append(
            f"{tier:<5}{s.support:>8}{s.predicted:>10}  "
            f"{_num(s.precision) + ' ' + _ci(s.precision_ci):<22}"
            f"{_num(s.recall) + ' ' + _ci(s.recall_ci):<22}{_num(s.f1):>5}"
        )
    lines += [
        "",
        "confusion (rows: labelled tier, columns: predicted tier)",
        "      " + "".join(f"{tier:>6}" for tier in TIERS),
    ]
    for tier, row in zip(TIERS, report.confusion, strict=True):
        lines.append(f"{tier:<6}" + "".join(f"{count:>6}" for count in row))
    lines.append("")
    lines.append(
        f"exact tier: {_num(report.accuracy)} of {report.examples} examples"
        + "".join(f"; {lang} {right}/{total}" for lang, (total, right) in report.by_lang.items())
    )
    if report.skipped:
        lines.append(f"skipped lines: {report.skipped}")
    if _degenerate(report):
        # The percentile bootstrap cannot show uncertainty when every example agrees: 12 of 12
        # right gives [1.00, 1.00], yet the true rate could be well below 1 (rule of three).
        lines.append(
            "* every resample gave the same value: the bootstrap cannot show the uncertainty "
            "here; with n examples all right, the true rate may still be as low as about 1 - 3/n"
        )
    return "\n".join(lines)


def summary(report: Report) -> dict[str, Any]:
    """The machine-readable summary: per-tier metrics, example and skipped counts."""
    return {
        "tiers": {
            str(tier): {
                "precision": s.precision,
                "recall": s.recall,
                "f1": s.f1,
                "support": s.support,
                "predicted": s.predicted,
                "precision_ci": list(s.precision_ci) if s.precision_ci else None,
                "recall_ci": list(s.recall_ci) if s.recall_ci else None,
            }
            for tier, s in report.tiers.items()
        },
        "confusion": [list(row) for row in report.confusion],
        "accuracy": report.accuracy,
        "examples": report.examples,
        "skipped": report.skipped,
    }
