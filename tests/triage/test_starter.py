"""The starter model (triage/starter.py): built from the development set alone, the same bytes
every time, read without pickle, words only, and it may only raise a tier.

These tests read the development set only; the held-apart test set is never opened here."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest

from tipline.triage import engine, learned, starter
from tipline.triage.evaluate import DEV_SET
from tipline.triage.tiers import Tier
from tipline.triage.types import Reason, Score, Span

# Behaviour only: a reported threat in words the rules rate below P2 (see the raise test).
RAISED = "He said he knows where she lives and tonight she will learn her lesson."


@pytest.fixture(scope="module")
def committed() -> learned.Model:
    found = starter.model()
    assert found is not None, "triage/data/starter.npz is missing: tipline triage train --starter"
    return found


def test_rebuilding_the_starter_gives_the_committed_bytes() -> None:
    # Guards the committed file: it must be what the command builds from dev.jsonl, so a changed
    # dev set or feature code without a rebuilt model fails here.
    assert starter.build().to_bytes() == starter.STARTER_FILE.read_bytes()


def test_the_starter_loads_without_pickle_and_names_its_sentences(
    committed: learned.Model,
) -> None:
    with np.load(io.BytesIO(starter.STARTER_FILE.read_bytes()), allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    assert committed.version == starter.version()
    assert committed.version.startswith("starter-")
    assert committed.raise_confidence == starter.RAISE_CONFIDENCE
    assert committed.reads_rules is False
    assert committed.rule_vocabulary == ()
    assert committed.classes == (Tier.P1, Tier.P2, Tier.P3, Tier.P4)


def test_the_starter_holds_only_words_of_our_own_sentences(committed: learned.Model) -> None:
    token = re.compile(r"(?u)\b\w+\b")
    written: set[str] = set()
    for line in DEV_SET.read_text(encoding="utf-8").splitlines():
        if line.strip():
            written |= set(token.findall(json.loads(line)["text"].lower()))
    for ngram in committed.words():
        assert set(ngram.split(" ")) <= written, ngram


def test_the_starter_reads_words_not_the_rules(committed: learned.Model) -> None:
    quiet = Score(score=0, tier=Tier.P4)
    loud = Score(
        score=90,
        tier=Tier.P1,
        reasons=(Reason("en.threat.direct", 60, Span(0, 7, "He said")),),
    )
    assert np.array_equal(
        committed.probabilities(RAISED, quiet), committed.probabilities(RAISED, loud)
    )


def test_the_starter_raises_with_its_words_and_never_lowers(committed: learned.Model) -> None:
    rules = engine.score(RAISED, lang="en")
    assert rules.tier in (Tier.P3, Tier.P4)
    opinion = starter.opinion(RAISED)
    assert opinion is not None
    assert opinion.tier in (Tier.P1, Tier.P2)
    assert opinion.confidence >= starter.RAISE_CONFIDENCE
    assert learned.combine(rules.tier, opinion) == opinion.tier
    # Its words are words of the text, located, as the console highlights them.
    assert opinion.words
    for word in opinion.words:
        assert word.span is not None
        assert RAISED[word.span.start : word.span.end] == word.span.text
    # Never lower: a text the rules rate P1 stays P1 whatever the starter reads.
    calm = starter.opinion("We had a picnic in the park with the children on Sunday.")
    assert calm is not None
    for tier in (Tier.P1, Tier.P2, Tier.P3, Tier.P4):
        for opinion_of in (opinion, calm):
            combined = learned.combine(tier, opinion_of)
            assert learned.TIER_ORDER.index(combined) <= learned.TIER_ORDER.index(tier)


def test_a_model_written_before_the_starter_still_loads_and_reads_the_rules(
    committed: learned.Model,
) -> None:
    # Installation models sealed before this change have no reads_rules/raise_confidence arrays.
    buffer = io.BytesIO()
    with np.load(io.BytesIO(committed.to_bytes()), allow_pickle=False) as arrays:
        old = {k: arrays[k] for k in arrays.files if k not in ("reads_rules", "raise_confidence")}
    np.savez_compressed(buffer, **old)
    loaded = learned.Model.from_bytes(buffer.getvalue())
    assert loaded.reads_rules is True
    assert loaded.raise_confidence == learned.RAISE_CONFIDENCE


def test_raised_to_is_the_models_own_raise_rule(committed: learned.Model) -> None:
    # Cross-validation sweeps thresholds with raised_to; it must be what opinion() does.
    for text in (RAISED, "The shop never sent the parcel I paid for."):
        row = committed.probabilities(text, Score(score=0, tier=Tier.P4))
        opinion = committed.opinion(text, Score(score=0, tier=Tier.P4))
        assert starter.raised_to(row, committed.classes, committed.raise_confidence) == (
            opinion.tier
        )


def test_the_shipped_threshold_is_the_one_cross_validation_chooses() -> None:
    # Guards the documented decision (docs/BENCHMARKS.md, "The starter model"): on the development
    # set alone, the lowest threshold keeping calm sentences P1/P2 <= 5 % in every language with
    # rules and starter together. A changed dev set or model that moves it must be re-decided.
    folds = starter.folds()
    chosen = starter.choose(folds)
    assert chosen is not None
    assert chosen.threshold == starter.RAISE_CONFIDENCE
    assert not starter.within_calm_goal(starter.figures(folds, 0.8))
