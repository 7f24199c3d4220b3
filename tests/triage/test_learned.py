"""The learning layer's engine: training, minimum class sizes, storage, scoring, can only raise."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tipline.triage import char_ngrams, engine, learned, synthetic
from tipline.triage.tiers import Tier
from tipline.triage.types import Score


def examples(count: int, seed: int = 7) -> list[learned.TrainingExample]:
    rules = engine.load()
    return [
        learned.TrainingExample(text, rules.score(text), tier)
        for text, tier in synthetic.reports(count, seed=seed, size=200)
    ]


def distinctive(word: str, others: list[str]) -> frozenset[int]:
    """The n-grams of ``word`` (character hashes, and the word itself) found in no other text."""
    common = {int(h) for text in others for h in char_ngrams.grams(text).hashes}
    own = {int(h) for h in char_ngrams.hashes_of(word)} - common
    return frozenset(own | {hash(word)})


@pytest.fixture(scope="module")
def trained() -> tuple[learned.Model, object, list[learned.TrainingExample]]:
    data = examples(600)
    model, sklearn_probabilities = learned.fit(data[:500], version="t1", min_class=20)
    return model, sklearn_probabilities, data[500:]


def test_training_refuses_when_fewer_than_two_tiers_reach_the_minimum() -> None:
    data = examples(60)
    with pytest.raises(learned.TrainingRefused, match="at least two tiers need 50"):
        learned.train(data, version="x")  # 60 examples: no tier has 50
    with pytest.raises(learned.TrainingRefused, match="cannot be below"):
        learned.train(data, version="x", min_class=2)


def test_a_tier_below_the_minimum_is_left_out_not_guessed() -> None:
    data = examples(300)
    counts = {t: sum(1 for e in data if e.label == t) for t in Tier}
    minimum = counts[Tier.P1] + 1  # P1 (8% of reports) falls short; the others reach it
    model = learned.train(data, version="x", min_class=minimum)
    assert Tier.P1 not in model.classes
    assert len(model.classes) >= 2


def test_own_scoring_gives_scikit_learns_probabilities(trained) -> None:  # type: ignore[no-untyped-def]
    model, sklearn_probabilities, held = trained
    ours = np.array([model.probabilities(e.text, e.rules) for e in held])
    theirs = sklearn_probabilities(held)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_stored_as_arrays_and_read_back_identically_never_unpickled(trained) -> None:  # type: ignore[no-untyped-def]
    model, _, held = trained
    copy = learned.Model.from_bytes(model.to_bytes())
    for example in held[:20]:
        np.testing.assert_allclose(
            copy.probabilities(example.text, example.rules),
            model.probabilities(example.text, example.rules),
        )
    # A file carrying a pickled object (code on load) is refused, not executed.
    buffer = io.BytesIO()
    np.savez(buffer, format=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        learned.Model.from_bytes(buffer.getvalue())
    assert model.to_bytes()[:2] == b"PK"  # an npz (zip) archive of arrays


def test_an_ngram_found_in_fewer_than_three_reports_never_enters_the_model() -> None:
    data = examples(400)
    marked = [
        learned.TrainingExample(e.text + " quorvantide", e.rules, e.label) if i < 2 else e
        for i, e in enumerate(data)
    ]
    model = learned.train(marked, version="x", min_class=20)
    own = distinctive("quorvantide", [e.text for e in data])
    assert own  # n-grams of the word that no other text has
    assert not own & model.held("quorvantide")
    # Three reports are enough for it to be kept (which is why retention must retrain).
    thrice = [
        learned.TrainingExample(e.text + " quorvantide", e.rules, e.label) if i < 3 else e
        for i, e in enumerate(data)
    ]
    assert own <= learned.train(thrice, version="x", min_class=20).held("quorvantide")


def test_the_model_explains_itself_with_the_words_of_the_text(trained) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = trained
    text = "He says he is waiting outside her school right now and she is only twelve."
    opinion = model.opinion(text, engine.score(text))
    assert opinion.tier in (Tier.P1, Tier.P2)
    assert opinion.confidence >= learned.RAISE_CONFIDENCE
    assert opinion.words
    for word in opinion.words:
        assert word.span is not None
        assert text[word.span.start : word.span.end] == word.span.text
        assert word.weight > 0


def test_the_model_can_raise_a_tier_and_never_lower_one(trained) -> None:  # type: ignore[no-untyped-def]
    model, _, _ = trained
    urgent = "He says he is waiting outside her school right now and she is only twelve."
    calm = "I think a website is selling fake concert tickets."
    # The model reads the rule signals too: it is given the rules' real reading of the text, and
    # combined with a lower tier than theirs, as for a report the rules alone would leave at P4.
    urgent_opinion = model.opinion(urgent, engine.score(urgent))
    calm_opinion = model.opinion(calm, Score(90, Tier.P1))
    assert learned.combine(Tier.P4, urgent_opinion) == urgent_opinion.tier
    assert urgent_opinion.tier is not None
    assert urgent_opinion.tier < Tier.P4
    # Whatever the model reads in a calm text, the rules' P1 stands.
    assert learned.combine(Tier.P1, calm_opinion) == Tier.P1
    for rules_tier in Tier:
        for opinion in (urgent_opinion, calm_opinion, None):
            combined = learned.combine(rules_tier, opinion)
            assert combined <= rules_tier  # "P1" < "P4": never less urgent than the rules


def test_batched_ngrams_are_each_texts_own() -> None:
    texts = [
        "Hello  there, WORLD!",
        "",
        "a",
        "He said: k1ll — tonight at the gate. कल रात मिलेंगे",
        "hello there world",
    ]
    owners, hashes, counts = char_ngrams.batch(texts)
    for index, text in enumerate(texts):
        alone = char_ngrams.grams(text)
        mine = owners == index
        assert list(hashes[mine]) == list(alone.hashes)
        assert list(counts[mine]) == list(alone.counts)


MIXED = [
    *(text for text, _tier in synthetic.reports(300, seed=7)),
    "",
    "a",
    "He said: k1ll — tonight at the gate. कल रात मिलेंगे",
    "ǅ İstanbul ΣΑΣ straße",
    "A b a b a b",
] * 3


@pytest.mark.parametrize("limit", [learned.MAX_WORD_FEATURES, 40])
def test_word_features_are_scikit_learns_to_the_bit(
    limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training counts word n-grams with arrays (speed); scikit-learn is the reference."""
    monkeypatch.setattr(learned, "MAX_WORD_FEATURES", limit)
    ours = learned._word_features(MIXED)
    theirs = learned._word_features_sklearn(MIXED)
    assert ours[0] == theirs[0]
    assert np.array_equal(ours[1], theirs[1])
    assert (ours[2] != theirs[2]).nnz == 0


def test_character_features_in_one_pass_equal_the_two_pass_block() -> None:
    vocabulary, idf, block = learned._char_features(MIXED)
    again_vocabulary, again_idf = learned._char_vocabulary(MIXED)
    assert np.array_equal(vocabulary, again_vocabulary)
    assert np.array_equal(idf, again_idf)
    assert (block != learned._char_matrix(MIXED, vocabulary, idf)).nnz == 0
    one = learned._char_block(char_ngrams.grams(MIXED[3]), vocabulary, idf)
    row = block[3]
    assert list(row.indices) == list(one[0])
    assert np.allclose(row.data, one[1])
