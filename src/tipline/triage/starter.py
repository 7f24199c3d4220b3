"""The starter model: the learned model built from the team's own labelled sentences (issue 20).

Why. The learning layer (``learned.py``) learns from an installation's own closed reports, so a new
hotline starts with the rules alone, and the rules recognise about two thirds of threats on
sentences nobody here wrote (docs/BENCHMARKS.md). The starter model is the same kind of model,
learned from the development set (``data/dev.jsonl``: 1,451 sentences in en/fr/hi, each labelled
with a tier), so an installation can use a second opinion from its first report: it may only
raise a tier, never lower one below the rules' tier (``learned.combine``), and the console shows
its words as it shows the installation model's.

Words only. The rules were tuned on these very sentences, so on them the rules' signals are
almost always right; a model given those signals as features learns to copy them, and adds
nothing on sentences the rules miss. The starter reads the words alone (``reads_rules=False``):
its opinion is independent of the rules, which is what a second opinion is for.

Built, not downloaded. ``build()`` trains it from ``dev.jsonl`` with a fixed seed; ``tipline
triage train --starter`` writes ``data/starter.npz``, which is committed (a few hundred kB). It
is committed rather than built at set-up because training needs scikit-learn's fit (seconds, and
memory) in whatever process first needs it, and because a committed file is what reviewers read
in a diff; a test rebuilds it and compares the bytes. It holds n-grams of our own written
sentences only (no report content), so it is not sealed; it is read with ``allow_pickle=False``
like the installation model.

The raise threshold (``RAISE_CONFIDENCE``) and whether it is on by default were chosen by
cross-validation on the development set alone (``cross_validate``), never on the test set; the
figures and the decision are in docs/BENCHMARKS.md and ``data/README.md``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tipline.triage import engine, goals, learned
from tipline.triage.evaluate import DEV_SET, Example, load
from tipline.triage.tiers import Tier
from tipline.triage.types import Score

STARTER_FILE = Path(__file__).resolve().parent / "data" / "starter.npz"
SEED = 20
# The tier the starter raises to when P(that tier or more urgent) reaches this; chosen by
# cross-validation on the development set (docs/BENCHMARKS.md, "The starter model").
RAISE_CONFIDENCE = 0.85
# P3 has about 50 development examples; each cross-validation fold trains on four fifths.
MIN_CLASS = 30
FOLDS = 5
BLOCK = 20  # neighbouring lines of dev.jsonl, written together, stay in one fold
# The starter reads words only: the score it is given is not used (reads_rules=False).
_NO_RULES = Score(score=0, tier=Tier.P4)


def examples() -> list[Example]:
    parsed = load(DEV_SET)
    return list(parsed.examples)


def _training(chosen: Sequence[Example]) -> list[learned.TrainingExample]:
    return [learned.TrainingExample(e.text, _NO_RULES, e.tier) for e in chosen]


def version() -> str:
    """Named after the sentences it learned from, so a changed dev.jsonl is a new version."""
    return "starter-" + hashlib.sha256(DEV_SET.read_bytes()).hexdigest()[:8]


def build(*, raise_confidence: float = RAISE_CONFIDENCE) -> learned.Model:
    """Train the starter on every development sentence (deterministic: fixed seed and folds)."""
    model = learned.train(
        _training(examples()),
        version=version(),
        min_class=MIN_CLASS,
        seed=SEED,
        reads_rules=False,
    )
    model.raise_confidence = raise_confidence
    return model


def write(path: Path = STARTER_FILE) -> learned.Model:
    model = build()
    path.write_bytes(model.to_bytes())
    return model


class _Loaded:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: learned.Model | None = None

    def get(self) -> learned.Model | None:
        with self._lock:
            if self._model is None and STARTER_FILE.exists():
                self._model = learned.Model.from_bytes(STARTER_FILE.read_bytes())
            return self._model


_loaded = _Loaded()


def model() -> learned.Model | None:
    """The committed starter model (read once per process), or None when the file is absent."""
    return _loaded.get()


def opinion(text: str) -> learned.Opinion | None:
    found = model()
    return found.opinion(text, _NO_RULES) if found is not None else None


# --- cross-validation on the development set -----------------------------------------------------


@dataclass(frozen=True)
class Fold:
    """Held-out examples of one fold, the rules' tiers for them and the starter's probabilities."""

    examples: tuple[Example, ...]
    rules: tuple[Tier, ...]
    probabilities: np.ndarray  # one row per example, columns in ``classes`` order
    classes: tuple[Tier, ...]


def folds(*, n_folds: int = FOLDS, seed: int = SEED) -> list[Fold]:
    """Train a starter on each fold's complement and read its held-out sentences.

    Stratified by language and tier, grouped by blocks of ``BLOCK`` neighbouring lines: the
    sentences were written in batches, a batch's sentences share turns of phrase, and a random
    split would let the model see a held-out sentence's twin.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    every = examples()
    strata = [f"{e.lang}:{e.tier}" for e in every]
    groups = [(e.line - 1) // BLOCK for e in every]
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    rules = engine.load()
    out = []
    for train_at, test_at in splitter.split(np.zeros(len(every)), strata, groups):
        trained = learned.train(
            _training([every[i] for i in train_at]),
            version="cv",
            min_class=MIN_CLASS,
            seed=seed,
            reads_rules=False,
        )
        held = tuple(every[i] for i in test_at)
        out.append(
            Fold(
                examples=held,
                rules=tuple(rules.score(e.text, lang=e.lang).tier for e in held),
                probabilities=np.array([trained.probabilities(e.text, _NO_RULES) for e in held]),
                classes=trained.classes,
            )
        )
    return out


def raised_to(probabilities: np.ndarray, classes: Sequence[Tier], threshold: float) -> Tier | None:
    """``learned.Model.opinion``'s raise rule on one row of probabilities."""
    running = 0.0
    for tier, p in zip(classes[:-1], probabilities[:-1], strict=True):
        running += float(p)
        if running >= threshold:
            return tier
    return None


@dataclass(frozen=True)
class Figures:
    threshold: float
    groups: dict[str, tuple[goals.Group, ...]]  # "rules", "starter", "combined"


def figures(cv: Sequence[Fold], threshold: float) -> Figures:
    """Rules alone, starter alone and both (the starter only raising), on every held-out row."""
    held: list[Example] = []
    tiers: dict[str, list[Tier]] = {"rules": [], "starter": [], "combined": []}
    for fold in cv:
        for example, rules_tier, row in zip(
            fold.examples, fold.rules, fold.probabilities, strict=True
        ):
            raised = raised_to(row, fold.classes, threshold)
            held.append(example)
            tiers["rules"].append(rules_tier)
            tiers["starter"].append(raised or fold.classes[-1])
            tiers["combined"].append(
                min(rules_tier, raised or rules_tier, key=learned.TIER_ORDER.index)
            )
    return Figures(threshold, {name: goals.measure(held, t) for name, t in tiers.items()})


def within_calm_goal(result: Figures) -> bool:
    """Combined, every language keeps calm sentences scored P1/P2 at or under the goal (5 %)."""
    limit = next(g.target for g in goals.GOALS if g.key == "calm_urgent")
    return all(
        (group.rates["calm_urgent"].value or 0.0) <= limit
        for group in result.groups["combined"]
        if group.is_language
    )


THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def choose(cv: Sequence[Fold], thresholds: Sequence[float] = THRESHOLDS) -> Figures | None:
    """The lowest threshold (most raising) whose combined figures meet the calm goal."""
    for threshold in sorted(thresholds):
        result = figures(cv, threshold)
        if within_calm_goal(result):
            return result
    return None


KEYS = ("threat_recall", "p1_recall", "calm_urgent", "negative_urgent")


def render(result: Figures) -> str:
    """One line per (language, scorer): the goal rates with their Wilson intervals."""
    lines = [f"threshold {result.threshold:.2f}"]
    labels = {key: goals.RATES[key][0] for key in KEYS}
    lines.append(f"{'lang':<5}{'scorer':<10}" + "".join(f"{labels[k]:>31}" for k in KEYS))
    for name, groups in result.groups.items():
        for group in groups:
            if not group.is_language:
                continue
            cells = []
            for key in KEYS:
                rate = group.rates[key]
                low, high = rate.ci or (0.0, 0.0)
                value = f"{rate.value:.2f}" if rate.value is not None else "—"
                cells.append(f"{value} [{low:.2f},{high:.2f}] {rate.hits:>3}/{rate.n:<3}")
            lines.append(f"{group.name:<5}{name:<10}" + "".join(f"{c:>31}" for c in cells))
    return "\n".join(lines)
