"""Character 3-5-grams inside words, as 64-bit hashes computed with NumPy.

Why hashes and NumPy. Character n-grams are most of the learned model's features (they let
"kill", "killing" and "k1ll" share evidence). Cut into Python strings they cost about a
microsecond each, several thousand per 2 KB report; as rolling hashes over the text's code points
they are a few array operations, so scoring stays well under the 2 ms budget and training on
100,000 reports takes seconds for this part. The model stores only the hashes of the n-grams it
keeps, never the strings; an explanation reads the words back from the report in front of it.

Semantics follow scikit-learn's ``char_wb`` analyzer: the text is lower-cased, words are runs of
non-space characters padded with one space on each side, and an n-gram never spans two words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SIZES = (3, 4, 5)
_PRIME = np.uint64(0x100000001B3)  # FNV-1a's 64-bit prime: odd, well mixed, wraps mod 2**64
_SPACE = 32


@dataclass(frozen=True)
class Grams:
    hashes: np.ndarray  # uint64, one per distinct n-gram, sorted
    counts: np.ndarray  # occurrences of each
    first: np.ndarray  # offset into the lower-cased text of its first occurrence
    sizes: np.ndarray  # its length in characters


def _codes(text: str) -> np.ndarray:
    lowered = " " + " ".join(text.lower().split()) + " "
    return np.frombuffer(lowered.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def grams(text: str) -> Grams:
    """Every distinct character n-gram of ``text``; offsets are into ``" ".join(text.split())``
    lower-cased, minus one for the leading pad (see ``span``)."""
    codes = _codes(text)
    is_space = (codes == _SPACE).astype(np.int32)
    spaces_before = np.concatenate(([0], np.cumsum(is_space)))  # spaces in codes[:i]
    all_hashes, all_starts, all_sizes = [], [], []
    with np.errstate(over="ignore"):
        for n in SIZES:
            windows = len(codes) - n + 1
            if windows <= 0:
                continue
            starts = np.arange(windows)
            # No space strictly inside the window: it stays within one (padded) word.
            inside = spaces_before[starts + n - 1] - spaces_before[starts + 1]
            keep = inside == 0
            value = np.full(windows, np.uint64(n))
            for k in range(n):
                value = value * _PRIME + codes[k : k + windows]
            all_hashes.append(value[keep])
            all_starts.append(starts[keep])
            all_sizes.append(np.full(int(keep.sum()), n))
    if not all_hashes:
        empty = np.zeros(0, dtype=np.uint64)
        return Grams(empty, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), empty)
    hashes = np.concatenate(all_hashes)
    starts = np.concatenate(all_starts)
    sizes = np.concatenate(all_sizes)
    unique, first_index, counts = np.unique(hashes, return_index=True, return_counts=True)
    return Grams(unique, counts, starts[first_index], sizes[first_index])


def hashes_of(fragment: str) -> np.ndarray:
    """The hashes of a fragment's own n-grams (for checking that a model does not hold it)."""
    return grams(fragment).hashes


def lookup(vocabulary: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions in ``hashes`` found in the sorted ``vocabulary``, their vocabulary columns)."""
    if len(vocabulary) == 0 or len(hashes) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    at = np.searchsorted(vocabulary, hashes)
    at[at >= len(vocabulary)] = 0
    found = np.nonzero(vocabulary[at] == hashes)[0]
    return found, at[found]


def span(text: str, start: int, size: int) -> tuple[int, int] | None:
    """Where an n-gram found at ``start`` (an offset into the padded text) is in ``text``.

    The padded text collapsed whitespace, so offsets are mapped back by walking the words; None
    when lower-casing changed the text's length (offsets would not line up).
    """
    if len(text.lower()) != len(text):
        return None
    offset = start - 1  # the leading pad
    position = 0  # in the collapsed text
    for word_start, word in _words(text):
        if offset < position + len(word):
            inner = max(0, offset - position)
            begin = word_start + inner
            return begin, min(word_start + len(word), begin + size)
        position += len(word) + 1
    return None


def _words(text: str) -> list[tuple[int, str]]:
    found = []
    at = 0
    for word in text.split():
        at = text.index(word, at)
        found.append((at, word))
        at += len(word)
    return found


def windows(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every n-gram occurrence of many texts at once: (text index, hash), one per window.

    The texts are joined, each padded with a space at both ends, so a window across two texts
    always has a space inside and is dropped like a window across two words; the hashes are the
    ones ``grams`` gives for each text alone (a test checks it). Occurrences are not merged here:
    training counts them with one sort (``batch``, ``distinct``), not one per text.
    """
    pieces = [" " + " ".join(text.lower().split()) + " " for text in texts]
    lengths = np.array([len(p) for p in pieces], dtype=np.int64)
    codes = np.frombuffer("".join(pieces).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    # The text each code point belongs to: a gather, where a search per window cost more.
    owner_of = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)
    is_space = (codes == _SPACE).astype(np.int32)
    spaces_before = np.concatenate(([0], np.cumsum(is_space)))
    all_owners, all_hashes = [], []
    with np.errstate(over="ignore"):
        for n in SIZES:
            count = len(codes) - n + 1
            if count <= 0:
                continue
            # No space strictly inside the window (spaces in codes[1:n-1] of each window).
            keep = spaces_before[n - 1 : n - 1 + count] - spaces_before[1 : 1 + count] == 0
            value = np.full(count, np.uint64(n))
            for k in range(n):
                value = value * _PRIME + codes[k : k + count]
            all_hashes.append(value[keep])
            all_owners.append(owner_of[:count][keep])
    if not all_hashes:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint64)
    return np.concatenate(all_owners), np.concatenate(all_hashes)


def distinct(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the sorted distinct hashes, each input's index among them): ``np.unique`` with
    ``return_inverse``, done with a plain sort and a binary search. NumPy's vectorised sort is
    several times faster than an argsort on n-grams, which repeat a lot (Zipf); on all-distinct
    hashes the two ways cost about the same. (``np.unique`` itself took seconds on a chunk.)"""
    ordered = np.sort(hashes)
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    unique = ordered[new]
    return unique, np.searchsorted(unique, hashes).astype(np.int32)


def counted(owners: np.ndarray, columns: np.ndarray, texts: int, width: int) -> Any:
    """A CSR matrix (texts x width) counting each (text, column) pair, rows and columns sorted.

    Each pair is one int64 key, text * width + column, so a plain sort (NumPy's vectorised one,
    several times faster than an argsort or scipy's per-row sort) groups the repeats; the matrix
    is built from the sorted keys directly, already in canonical form.
    """
    from scipy import sparse

    keys = np.sort(owners.astype(np.int64) * width + columns)
    new = np.ones(len(keys), dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    firsts = np.flatnonzero(new)
    counts = np.diff(np.append(firsts, len(keys))).astype(np.float32)
    keys = keys[firsts]
    rows, cols = np.divmod(keys, width) if width else (keys, keys)
    indptr = np.zeros(texts + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=texts), out=indptr[1:])
    return sparse.csr_matrix((counts, cols.astype(np.int32), indptr), shape=(texts, width))


def batch(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct n-grams of many texts at once: (text index, hash, count), sorted by text, then
    by hash."""
    owners, hashes = windows(texts)
    if len(hashes) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0, dtype=np.uint64), empty
    unique, inverse = distinct(hashes)
    matrix = counted(owners, inverse, len(texts), len(unique))
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(matrix.indptr))
    return rows, unique[matrix.indices], matrix.data.astype(np.int64)
