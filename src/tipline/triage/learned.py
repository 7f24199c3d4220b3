"""The learning layer: a calibrated linear model over n-grams and the rules' own signals.

What it is for. The rules find what they were written for; a hotline's analysts keep deciding
reports the rules under-rate. This model learns from those decisions (the final tier of closed
reports, see ``cases/triage_model.py``) and offers a second opinion that can only *raise* a
report's tier, never lower it below the rules' tier (``combine``), and that is shown to the
analyst as a separate signal with its reasons: the words that weighed most (``Opinion.words``).

What it is made of. Word 1-2-grams and character 3-5-grams inside words (so "kil", "kill" and
"killing" share features; misspellings and inflections still count), each TF-IDF weighted, plus
one feature per rule family, combination, signal and the rules' tier, so the model learns on top
of the rules rather than instead of them. A linear SVM trained by SGD, calibrated with Platt's
sigmoid on cross-validated decisions (scikit-learn's ``CalibratedClassifierCV``), gives a
probability per tier. The model raises the tier to T only when the probability of "T or more
urgent" reaches ``RAISE_CONFIDENCE`` (a model may carry its own threshold, ``raise_confidence``;
the starter model, ``starter.py``, raises at the one cross-validation chose for it, and reads the
words alone, ``reads_rules=False``).

Why it is stored as arrays. ``to_bytes`` writes the vocabulary, weights and calibration as a NumPy
``.npz`` archive read back with ``allow_pickle=False``: a pickled model would run code when
loaded, and a sealed file that someone managed to replace must not become code execution. The
bytes hold report words (the vocabulary), so the caller seals them (``cases/triage_model.py``);
this module never touches keys or disk. An n-gram must occur in ``MIN_DF`` reports to enter the
vocabulary, so words found in one report alone (a name, an address) never live in a model.

Scoring does not call scikit-learn: the same analyzers (built from scikit-learn, so the n-grams are
identical) feed a sparse dot product here, which keeps a 2 KB report's scoring near a millisecond.
A test checks that it gives the probabilities scikit-learn gives.

Training builds its features with arrays, not per-n-gram Python (``_word_features``,
``_char_features``): (text, n-gram) pairs become int64 keys counted with one sort, each text is
cut into character n-grams once, and the per-tier SGD fits run in threads. The word block is bit
for bit scikit-learn's ``TfidfVectorizer`` output (a test compares them); at 100,000 synthetic
reports this made training about 3x faster (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import io
import math
import os
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tipline.triage import char_ngrams
from tipline.triage.tiers import Tier
from tipline.triage.types import Score, Span

FORMAT = 1  # bumped when features or the stored arrays change; an older model is refused
TIER_ORDER: tuple[Tier, ...] = (Tier.P1, Tier.P2, Tier.P3, Tier.P4)
MIN_CLASS = 50  # examples of a tier before the model learns it
MIN_CLASS_FLOOR = 10  # the lowest minimum an operator may ask for (calibration needs folds)
MIN_DF = 3  # reports an n-gram must occur in to enter the vocabulary
MAX_WORD_FEATURES = 200_000
MAX_CHAR_FEATURES = 300_000
RAISE_CONFIDENCE = 0.6
EXPLAIN_WORDS = 6
_WORD = dict(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b")  # noqa: S106
CHUNK = 2000  # documents whose n-gram hashes are merged into the counts at once
# Threads for the SGD fits (one per tier at most). Training runs in the command line or in the
# default worker's retention task, never in the triage worker, so it may use the machine.
JOBS = max(1, min(len(TIER_ORDER), os.cpu_count() or 1))


class TrainingRefused(Exception):
    """Too few decisions to learn from; the message says how many of each tier there are."""


@dataclass(frozen=True)
class TrainingExample:
    text: str
    rules: Score  # what the rules said about this text (and the report's signals)
    label: Tier  # the tier the analysts' decision confirmed


@dataclass(frozen=True)
class Word:
    """A word or phrase that pushed the model towards its tier, and where it is in the text."""

    ngram: str
    weight: float  # its contribution to the decision for the model's tier
    span: Span | None  # the whole word(s) holding it in the text, if found


@dataclass(frozen=True)
class Opinion:
    """What the model reads in one text: a probability per tier and the tier it would raise to."""

    probabilities: dict[Tier, float]
    tier: Tier | None  # None: no tier reaches RAISE_CONFIDENCE beyond the least urgent one
    confidence: float  # P(this tier or more urgent) for ``tier``
    words: tuple[Word, ...]
    version: str


def rule_tokens(score: Score) -> list[str]:
    """The rules' signals as features: families, combinations, named signals and the tier.

    Rule ids are ``<lang>.<family>.<name>``; the family is used, so one model reads the same
    signal whatever language's rule fired it, and survives a rule being renamed.
    """
    tokens = [f"tier:{score.tier}"]
    for reason in score.reasons:
        parts = reason.rule.split(".")
        if reason.span is not None and len(parts) >= 3:
            tokens.append(f"family:{parts[1]}")
        else:
            tokens.append(f"rule:{reason.rule}")
    return tokens


def combine(rules_tier: Tier, opinion: Opinion | None) -> Tier:
    """The model may raise the rules' tier, never lower it."""
    if opinion is None or opinion.tier is None:
        return rules_tier
    return min(rules_tier, opinion.tier, key=TIER_ORDER.index)


# --- training --------------------------------------------------------------------------------


def learnable(labels: Sequence[Tier], min_class: int) -> list[Tier]:
    """The tiers with enough examples; TrainingRefused when fewer than two have."""
    counts = Counter(labels)
    kept = [t for t in TIER_ORDER if counts[t] >= min_class]
    if len(kept) < 2:
        found = ", ".join(f"{t} {counts[t]}" for t in TIER_ORDER)
        raise TrainingRefused(
            f"at least two tiers need {min_class} confirmed decisions each before the model "
            f"trains; there are {found}"
        )
    return kept


def train(
    examples: Sequence[TrainingExample],
    *,
    version: str,
    min_class: int = MIN_CLASS,
    seed: int = 20,
    reads_rules: bool = True,
) -> Model:
    """Fit the vectorisers and the calibrated model; tiers below ``min_class`` are left out.

    ``reads_rules=False`` leaves the rules' signals out of the features: the model reads the
    words alone (the starter model, ``starter.py``, whose examples the rules were tuned on).
    """
    return fit(examples, version=version, min_class=min_class, seed=seed, reads_rules=reads_rules)[
        0
    ]


def fit(
    examples: Sequence[TrainingExample],
    *,
    version: str,
    min_class: int,
    seed: int = 20,
    reads_rules: bool = True,
) -> tuple[Model, Callable[[Sequence[TrainingExample]], np.ndarray]]:
    """``train``, also returning scikit-learn's own predict_proba (a test compares the two)."""
    from scipy import sparse
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier

    if min_class < MIN_CLASS_FLOOR:
        raise TrainingRefused(f"the minimum per tier cannot be below {MIN_CLASS_FLOOR}")
    kept = learnable([e.label for e in examples], min_class)
    used = [e for e in examples if e.label in kept]
    texts = [e.text for e in used]
    word_vocabulary, word_idf, x_words = _word_features(texts)
    char_hashes, char_idf, x_chars = _char_features(texts)
    tokens_of = rule_tokens if reads_rules else _no_tokens
    rule_vocabulary = sorted({t for e in used for t in tokens_of(e.rules)})
    rule_index = {t: i for i, t in enumerate(rule_vocabulary)}
    rows, cols = [], []
    for row, example in enumerate(used):
        for column in {rule_index[t] for t in tokens_of(example.rules)}:
            rows.append(row)
            cols.append(column)
    x_rules = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)),
        shape=(len(used), len(rule_vocabulary)),
    )
    x = sparse.hstack([x_words, x_chars, x_rules], format="csr")

    def words() -> Any:
        """scikit-learn's own vectoriser on our vocabulary, fitted on the same texts (so with
        the same IDF): the comparison below checks ``_word_features`` through it."""
        fixed = {ngram: column for column, ngram in enumerate(word_vocabulary)}
        vectoriser = TfidfVectorizer(**_WORD, sublinear_tf=True, dtype=np.float32, vocabulary=fixed)
        return vectoriser.fit(texts)

    def sklearn_probabilities(batch: Sequence[TrainingExample]) -> np.ndarray:
        tokens = [{rule_index[t] for t in tokens_of(e.rules) if t in rule_index} for e in batch]
        r = [i for i, found in enumerate(tokens) for _ in found]
        c = [column for found in tokens for column in found]
        rules_part = sparse.csr_matrix(
            (np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(batch), len(rule_vocabulary))
        )
        texts = [e.text for e in batch]
        features = sparse.hstack(
            [
                words().transform(texts),
                _char_matrix(texts, char_hashes, char_idf),
                rules_part,
            ],
            format="csr",
        )
        probabilities: np.ndarray = calibrated.predict_proba(features)
        return probabilities

    y = np.array([TIER_ORDER.index(e.label) for e in used])
    # About a million updates are enough for SGD to settle (scikit-learn's guidance): few passes
    # over a large set, more over a small one. This bounds training time at 100,000 reports.
    passes = max(5, min(30, math.ceil(1_000_000 / max(1, len(used)))))
    # The per-tier (one-vs-rest) fits run in threads: scikit-learn draws each fit's seed before
    # it starts, so the model is the same with one thread or several.
    base = SGDClassifier(
        loss="hinge", alpha=2e-5, max_iter=passes, tol=1e-4, random_state=seed, n_jobs=JOBS
    )
    calibrated = CalibratedClassifierCV(base, method="sigmoid", cv=3, ensemble=False)
    with warnings.catch_warnings():
        # SGD's passes are a fixed budget (training time is bounded); not converging fully
        # within them is expected on large sets, and calibration corrects the scale.
        warnings.simplefilter("ignore", ConvergenceWarning)
        calibrated.fit(x, y)
    fitted = calibrated.calibrated_classifiers_[0]
    linear = fitted.estimator
    model = Model(
        version=version,
        classes=tuple(TIER_ORDER[int(c)] for c in calibrated.classes_),
        word_vocabulary=word_vocabulary,
        char_hashes=char_hashes,
        rule_vocabulary=tuple(rule_vocabulary),
        word_idf=word_idf,
        char_idf=char_idf,
        coef=np.asarray(linear.coef_, dtype=np.float64),
        intercept=np.asarray(linear.intercept_, dtype=np.float64),
        calibration=np.array([[c.a_, c.b_] for c in fitted.calibrators], dtype=np.float64),
        trained_on=len(used),
        reads_rules=reads_rules,
    )
    return model, sklearn_probabilities


def _no_tokens(_score: Score) -> list[str]:
    return []


_TOKEN = re.compile(r"(?u)\b\w+\b")  # _WORD["token_pattern"], as scikit-learn compiles it


def _word_features_sklearn(texts: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray, Any]:
    """``_word_features`` by scikit-learn itself (slower; for vocabularies too large to key)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = TfidfVectorizer(
        **_WORD,
        min_df=MIN_DF,
        sublinear_tf=True,
        dtype=np.float32,
        max_features=MAX_WORD_FEATURES,
    )
    matrix = words.fit_transform(texts)
    return _ordered(words.vocabulary_), np.asarray(words.idf_, dtype=np.float32), matrix


def _word_features(texts: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray, Any]:
    """What scikit-learn's ``TfidfVectorizer(**_WORD, min_df=MIN_DF, sublinear_tf=True,
    dtype=float32, max_features=MAX_WORD_FEATURES).fit_transform`` gives (the vocabulary in
    column order, the IDF and the matrix), computed with arrays instead of a Python loop over
    every n-gram of every text (that loop was a quarter of training at 100,000 reports).

    Texts are lower-cased and cut into tokens by the same pattern; each token becomes an id
    through one dict (a C-level ``map``), a word pair becomes the int64 key ``V + a*V + b``, and
    (text, n-gram) pairs are counted with one sort. Only the n-grams kept get a string. Columns
    are in alphabetical order, ties under ``max_features`` fall as scikit-learn's argsort lets
    them, and the float32 arithmetic follows its TfidfTransformer; a test compares the two.
    """
    from collections import defaultdict

    from scipy import sparse

    index: defaultdict[str, int] = defaultdict()
    index.default_factory = index.__len__
    ids: list[int] = []
    lengths = np.zeros(len(texts), dtype=np.int64)
    for row, text in enumerate(texts):
        found = list(map(index.__getitem__, _TOKEN.findall(text.lower())))
        ids += found
        lengths[row] = len(found)
    tokens = np.array(ids, dtype=np.int64)
    size = max(1, len(index))
    if len(texts) * (size + size * size) >= 2**62:  # a (text, n-gram) key would not fit in int64
        return _word_features_sklearn(texts)
    owners = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    # A pair is two neighbouring tokens of one text.
    pair = owners[1:] == owners[:-1]
    grams = np.concatenate([tokens, size + tokens[:-1][pair] * size + tokens[1:][pair]])
    gram_owners = np.concatenate([owners, owners[:-1][pair]])
    width = size + size * size
    keys = np.sort(gram_owners * width + grams)
    new = np.ones(len(keys), dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    firsts = np.flatnonzero(new)
    counts = np.diff(np.append(firsts, len(keys)))
    rows, grams = np.divmod(keys[firsts], width)
    unique, inverse = char_ngrams.distinct(grams.astype(np.uint64))
    frequencies = np.bincount(inverse, minlength=len(unique))
    kept = np.flatnonzero(frequencies >= MIN_DF)
    names = list(index)
    strings = [
        names[g] if g < size else f"{names[(g - size) // size]} {names[(g - size) % size]}"
        for g in unique[kept].tolist()
    ]
    alphabetical = sorted(range(len(kept)), key=strings.__getitem__)
    kept = kept[alphabetical]
    strings = [strings[i] for i in alphabetical]
    if len(kept) > MAX_WORD_FEATURES:
        # scikit-learn's rule: the most frequent in all texts, by its own (unstable) argsort.
        totals = np.bincount(inverse, weights=counts, minlength=len(unique))[kept]
        top = np.sort((-totals.astype(np.float32)).argsort()[:MAX_WORD_FEATURES])
        kept = kept[top]
        strings = [strings[i] for i in top]
    column = np.full(len(unique), -1, dtype=np.int64)
    column[kept] = np.arange(len(kept))
    columns = column[inverse]
    keep = columns >= 0
    rows, columns, counts = rows[keep], columns[keep], counts[keep]
    # Sorted by text, then by gram key; within a text, order the columns (alphabetical).
    order = np.lexsort((columns, rows))
    rows, columns, counts = rows[order], columns[order], counts[order]
    n = np.float32(len(texts) + 1)
    idf = np.full(len(kept), n, dtype=np.float32)
    idf /= frequencies[kept].astype(np.float32) + np.float32(1.0)
    np.log(idf, out=idf)
    idf += np.float32(1.0)
    values = counts.astype(np.float32)
    np.log(values, out=values)
    values += np.float32(1.0)
    values *= idf[columns]
    # Squares in float32, summed in float64: what scikit-learn's row normalisation does, to the bit.
    squares = (values * values).astype(np.float64)
    norms = np.sqrt(np.bincount(rows, weights=squares, minlength=len(texts)))
    norms[norms == 0] = 1.0
    values = (values / norms[rows]).astype(np.float32)
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
    matrix = sparse.csr_matrix(
        (values, columns.astype(np.int32), indptr.astype(np.int32)),
        shape=(len(texts), len(kept)),
    )
    return tuple(strings), idf, matrix


@dataclass(frozen=True)
class _Counted:
    """One chunk's character n-grams: its distinct hashes and a texts x hashes count matrix."""

    hashes: np.ndarray
    counts: Any  # CSR, columns index ``hashes``


def _count_chunk(texts: list[str]) -> _Counted:
    owners, hashes = char_ngrams.windows(texts)
    unique, inverse = char_ngrams.distinct(hashes)
    return _Counted(unique, char_ngrams.counted(owners, inverse, len(texts), len(unique)))


def _char_features(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, Any]:
    """The character vocabulary (sorted hashes in at least MIN_DF texts), its IDF, and the texts'
    character block: ``_char_vocabulary`` then ``_char_matrix``, cutting each text into n-grams
    once instead of twice.

    Each chunk's counts are kept (8 bytes per distinct n-gram of a text, the size of the block
    they become) and turned into vocabulary columns once the vocabulary is known.
    """
    chunks = [_count_chunk(list(texts[at : at + CHUNK])) for at in range(0, len(texts), CHUNK)]
    vocabulary, idf = _vocabulary(chunks, len(texts))
    parts = []
    while chunks:
        chunk = chunks.pop(0)  # freed as it is converted
        found, columns = char_ngrams.lookup(vocabulary, chunk.hashes)
        where = np.full(len(chunk.hashes), -1, dtype=np.int64)
        where[found] = columns
        counts = chunk.counts
        mapped = where[counts.indices]
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        keep = mapped >= 0
        parts.append(
            _weighted(rows[keep], mapped[keep], counts.data[keep], counts.shape[0], vocabulary, idf)
        )
    return vocabulary, idf, _stacked(parts, len(vocabulary))


def _vocabulary(chunks: Sequence[_Counted], texts: int) -> tuple[np.ndarray, np.ndarray]:
    """Merge the chunks' document frequencies; keep the n-grams in MIN_DF texts (at most
    MAX_CHAR_FEATURES, the most frequent). IDF is scikit-learn's smoothed ln((1+n)/(1+df)) + 1."""
    keys = np.zeros(0, dtype=np.uint64)
    frequencies = np.zeros(0, dtype=np.float64)
    for chunk in chunks:
        found = np.bincount(chunk.counts.indices, minlength=len(chunk.hashes)).astype(np.float64)
        # Merge into the running counts: both key arrays are sorted and distinct.
        joined, inverse = char_ngrams.distinct(np.concatenate([keys, chunk.hashes]))
        frequencies = np.bincount(
            inverse, weights=np.concatenate([frequencies, found]), minlength=len(joined)
        )
        keys = joined
    kept = frequencies >= MIN_DF
    keys, frequencies = keys[kept], frequencies[kept]
    if len(keys) > MAX_CHAR_FEATURES:
        top = np.sort(np.argsort(-frequencies, kind="stable")[:MAX_CHAR_FEATURES])
        keys, frequencies = keys[top], frequencies[top]
    idf = np.log((1 + texts) / (1 + frequencies)) + 1
    return keys, idf.astype(np.float32)


def _weighted(
    rows: np.ndarray,
    columns: np.ndarray,
    counts: np.ndarray,
    texts: int,
    vocabulary: np.ndarray,
    idf: np.ndarray,
) -> Any:
    """L2-normalised sublinear TF-IDF rows from (row, column, count) sorted by row then column."""
    from scipy import sparse

    values = (1.0 + np.log(counts.astype(np.float64))) * idf[columns].astype(np.float64)
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=texts))
    norms[norms == 0] = 1.0
    indptr = np.zeros(texts + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=texts), out=indptr[1:])
    return sparse.csr_matrix(
        ((values / norms[rows]).astype(np.float32), columns.astype(np.int32), indptr),
        shape=(texts, len(vocabulary)),
    )


def _stacked(parts: list[Any], width: int) -> Any:
    """The chunks' rows as one CSR matrix, its arrays joined directly (no per-part checks)."""
    from scipy import sparse

    if not parts:
        return sparse.csr_matrix((0, width), dtype=np.float32)
    offsets = np.cumsum([0] + [p.nnz for p in parts])
    indptr = np.concatenate(
        [np.zeros(1, dtype=np.int64)]
        + [p.indptr[1:] + at for p, at in zip(parts, offsets, strict=False)]
    )
    index_type = np.int32 if offsets[-1] < np.iinfo(np.int32).max else np.int64
    return sparse.csr_matrix(
        (
            np.concatenate([p.data for p in parts]),
            np.concatenate([p.indices for p in parts]).astype(index_type),
            indptr.astype(index_type),
        ),
        shape=(sum(p.shape[0] for p in parts), width),
    )


def _char_vocabulary(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The hashes of character n-grams in at least MIN_DF texts (sorted), and their IDF.

    Document frequencies are merged a chunk at a time, so memory follows the number of distinct
    n-grams, not the number of texts.
    """
    chunks = [_count_chunk(list(texts[at : at + CHUNK])) for at in range(0, len(texts), CHUNK)]
    return _vocabulary(chunks, len(texts))


def _char_block(
    found: char_ngrams.Grams, vocabulary: np.ndarray, idf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Columns and L2-normalised sublinear TF-IDF values of one text's character n-grams."""
    positions, columns = char_ngrams.lookup(vocabulary, found.hashes)
    values = (1.0 + np.log(found.counts[positions])) * idf[columns].astype(np.float64)
    norm = float(np.sqrt(values @ values)) or 1.0
    return columns, values / norm


def _char_matrix(texts: Sequence[str], vocabulary: np.ndarray, idf: np.ndarray) -> Any:
    """The texts' character block, as ``_char_block`` computes it for one text, a chunk at once.

    Each occurrence is looked up in the vocabulary first and the repeats of a (text, column) are
    counted with one sort (``counted``). Training uses ``_char_features``, which cuts the texts
    once for both the vocabulary and this block; this is for texts after training.
    """
    parts = []
    for at in range(0, len(texts), CHUNK):
        chunk = list(texts[at : at + CHUNK])
        owners, hashes = char_ngrams.windows(chunk)
        positions, columns = char_ngrams.lookup(vocabulary, hashes)
        counts = char_ngrams.counted(owners[positions], columns, len(chunk), len(vocabulary))
        rows = np.repeat(np.arange(len(chunk)), np.diff(counts.indptr))
        parts.append(_weighted(rows, counts.indices, counts.data, len(chunk), vocabulary, idf))
    return _stacked(parts, len(vocabulary))


def _ordered(vocabulary: dict[str, Any]) -> tuple[str, ...]:
    ordered = [""] * len(vocabulary)
    for ngram, column in vocabulary.items():
        ordered[int(column)] = ngram
    return tuple(ordered)


# --- the model -------------------------------------------------------------------------------


def _analyzer(params: dict[str, Any]) -> Callable[[str], list[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyze: Callable[[str], list[str]] = TfidfVectorizer(**params).build_analyzer()
    return analyze


class Model:
    def __init__(
        self,
        *,
        version: str,
        classes: tuple[Tier, ...],
        word_vocabulary: tuple[str, ...],
        char_hashes: np.ndarray,
        rule_vocabulary: tuple[str, ...],
        word_idf: np.ndarray,
        char_idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        calibration: np.ndarray,
        trained_on: int,
        reads_rules: bool = True,
        raise_confidence: float = RAISE_CONFIDENCE,
    ) -> None:
        self.version = version
        self.classes = classes
        self.word_vocabulary = word_vocabulary
        self.char_hashes = char_hashes
        self.rule_vocabulary = rule_vocabulary
        self.word_idf = word_idf
        self.char_idf = char_idf
        self.coef = coef
        self.intercept = intercept
        self.calibration = calibration
        self.trained_on = trained_on
        self.reads_rules = reads_rules
        self.raise_confidence = raise_confidence
        self._words = {w: i for i, w in enumerate(word_vocabulary)}
        self._rules = {r: i for i, r in enumerate(rule_vocabulary)}
        self._char_offset = len(word_vocabulary)
        self._rule_offset = self._char_offset + len(char_hashes)
        self._analyze_words = _analyzer(_WORD)

    # -- storage: arrays only, never pickle --

    def to_bytes(self) -> bytes:
        """The arrays as an ``.npz`` archive, the same bytes for the same model (see _npz)."""
        return _npz(
            format=np.array([FORMAT]),
            version=np.array([self.version]),
            classes=np.array([str(t) for t in self.classes]),
            word_vocabulary=np.array(self.word_vocabulary, dtype=str),
            char_hashes=self.char_hashes,
            rule_vocabulary=np.array(self.rule_vocabulary, dtype=str),
            word_idf=self.word_idf,
            char_idf=self.char_idf,
            coef=self.coef,
            intercept=self.intercept,
            calibration=self.calibration,
            trained_on=np.array([self.trained_on]),
            reads_rules=np.array([self.reads_rules]),
            raise_confidence=np.array([self.raise_confidence], dtype=np.float64),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Model:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            if int(arrays["format"][0]) != FORMAT:
                raise ValueError("the model was written by another version: train it again")
            return cls(
                version=str(arrays["version"][0]),
                classes=tuple(Tier(str(t)) for t in arrays["classes"]),
                word_vocabulary=tuple(str(w) for w in arrays["word_vocabulary"]),
                char_hashes=arrays["char_hashes"],
                rule_vocabulary=tuple(str(r) for r in arrays["rule_vocabulary"]),
                word_idf=arrays["word_idf"],
                char_idf=arrays["char_idf"],
                coef=arrays["coef"],
                intercept=arrays["intercept"],
                calibration=arrays["calibration"],
                trained_on=int(arrays["trained_on"][0]),
                # Absent from models written before the starter model: they read the rules and
                # raise at RAISE_CONFIDENCE.
                reads_rules=bool(arrays["reads_rules"][0]) if "reads_rules" in arrays else True,
                raise_confidence=(
                    float(arrays["raise_confidence"][0])
                    if "raise_confidence" in arrays
                    else RAISE_CONFIDENCE
                ),
            )

    def words(self) -> frozenset[str]:
        """The words and word pairs the model holds (character n-grams are kept as hashes)."""
        return frozenset(self.word_vocabulary)

    def held(self, fragment: str) -> frozenset[int]:
        """The n-grams of ``fragment`` the model holds: words or pairs containing it (as
        strings) and its character n-grams (as hashes). The retention tests ask this."""
        lowered = fragment.lower()
        found, _columns = char_ngrams.lookup(self.char_hashes, char_ngrams.hashes_of(fragment))
        held: set[int] = {int(h) for h in char_ngrams.hashes_of(fragment)[found]}
        held |= {hash(w) for w in self.word_vocabulary if lowered in w}
        return frozenset(held)

    # -- scoring --

    def _features(self, text: str, rules: Score) -> tuple[np.ndarray, np.ndarray]:
        columns: list[int] = []
        values: list[float] = []
        # Counting the whole list is one C loop; only distinct n-grams are then looked up.
        block = [
            (column, (1.0 + math.log(n)) * float(self.word_idf[column]))
            for ngram, n in Counter(self._analyze_words(text)).items()
            if (column := self._words.get(ngram)) is not None
        ]
        norm = math.sqrt(sum(v * v for _c, v in block)) or 1.0
        columns += [c for c, _v in block]
        values += [v / norm for _c, v in block]
        tokens = rule_tokens(rules) if self.reads_rules else []
        for column in {self._rules[t] for t in tokens if t in self._rules}:
            columns.append(self._rule_offset + column)
            values.append(1.0)
        char_columns, char_values = _char_block(
            char_ngrams.grams(text), self.char_hashes, self.char_idf
        )
        return (
            np.concatenate([np.array(columns, dtype=np.intp), char_columns + self._char_offset]),
            np.concatenate([np.array(values, dtype=np.float64), char_values]),
        )

    def probabilities(self, text: str, rules: Score) -> np.ndarray:
        columns, values = self._features(text, rules)
        return self._calibrated(self.coef[:, columns] @ values + self.intercept)

    def _calibrated(self, decision: np.ndarray) -> np.ndarray:
        # scikit-learn's sigmoid calibration: p = 1 / (1 + exp(a·d + b)), per class one-vs-rest,
        # then normalised; two classes have one decision, for the second class.
        a, b = self.calibration[:, 0], self.calibration[:, 1]
        p = 1.0 / (1.0 + np.exp(np.clip(a * decision + b, -500, 500)))
        if len(self.classes) == 2:
            return np.array([1.0 - p[0], p[0]])
        total = p.sum()
        return p / total if total > 0 else np.full(len(p), 1.0 / len(p))

    def opinion(self, text: str, rules: Score) -> Opinion:
        columns, values = self._features(text, rules)
        probabilities = self._calibrated(self.coef[:, columns] @ values + self.intercept)
        by_tier = {tier: float(p) for tier, p in zip(self.classes, probabilities, strict=True)}
        tier, confidence = None, 0.0
        running = 0.0
        for candidate in self.classes[:-1]:  # "the least urgent or more" is always true
            running += by_tier[candidate]
            if running >= self.raise_confidence:
                tier, confidence = candidate, running
                break
        words = self._explain(text, columns, values, tier) if tier is not None else ()
        return Opinion(by_tier, tier, confidence, words, self.version)

    def _explain(
        self, text: str, columns: np.ndarray, values: np.ndarray, tier: Tier
    ) -> tuple[Word, ...]:
        """The n-grams of this text that weighed most towards ``tier``, as words of the text."""
        # Two classes have one decision, for the second (less urgent) class: towards ``tier``
        # is its negative.
        binary = len(self.classes) == 2
        weights = -self.coef[0] if binary else self.coef[self.classes.index(tier)]
        contributions = weights[columns] * values
        found: list[Word] = []
        seen: set[str] = set()
        char_grams: char_ngrams.Grams | None = None
        for position in np.argsort(-contributions):
            if len(found) >= EXPLAIN_WORDS or contributions[position] <= 0:
                break
            column = int(columns[position])
            if column >= self._rule_offset:
                continue  # rule signals are explained by the rules' own reasons
            if column < self._char_offset:
                ngram = self.word_vocabulary[column]
                span = _locate(text, ngram)
            else:
                # A character n-gram is stored as a hash: find it again in this text.
                char_grams = char_grams or char_ngrams.grams(text)
                _found, at = char_ngrams.lookup(
                    char_grams.hashes,
                    self.char_hashes[column - self._char_offset : column - self._char_offset + 1],
                )
                where = (
                    char_ngrams.span(
                        text, int(char_grams.first[at[0]]), int(char_grams.sizes[at[0]])
                    )
                    if len(at)
                    else None
                )
                span = _whole_words(text, *where) if where else None
                ngram = text[where[0] : where[1]].lower() if where else ""
            key = span.text.lower() if span else ngram
            if not ngram or key in seen:
                continue
            seen.add(key)
            found.append(Word(ngram, float(contributions[position]), span))
        return tuple(found)


def _npz(**arrays: np.ndarray) -> bytes:
    """What ``np.savez_compressed`` writes, with every archive entry dated 1980-01-01.

    NumPy stamps each entry with the time of writing, so the same model written twice gave
    different bytes; the starter model is committed with a test that rebuilding it gives the
    same bytes (``starter.py``). ``np.load`` reads this like any ``.npz``.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(entry, "w", force_zip64=True) as stream:
                np.lib.format.write_array(stream, np.asanyarray(array), allow_pickle=False)
    return buffer.getvalue()


def _locate(text: str, ngram: str) -> Span | None:
    """The first whole word(s) of ``text`` holding ``ngram`` (case-insensitive)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer: offsets differ
        return None
    at = lowered.find(ngram)
    if at < 0:
        return None
    return _whole_words(text, at, at + len(ngram))


def _whole_words(text: str, start: int, end: int) -> Span:
    while start > 0 and _word_char(text[start - 1]):
        start -= 1
    while end < len(text) and _word_char(text[end]):
        end += 1
    return Span(start, end, text[start:end])


_WORD_CHAR = re.compile(r"\w")


def _word_char(character: str) -> bool:
    return _WORD_CHAR.match(character) is not None
