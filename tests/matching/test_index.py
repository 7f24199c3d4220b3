"""PdqIndex: exact recall against a brute-force scan, updates, persistence, input checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tipline.matching.index import PdqIndex, hex_to_bytes

RNG_SEED = 4


def brute_force(ids: np.ndarray, words: np.ndarray, q: np.ndarray, radius: int) -> list:
    d = np.bitwise_count(words ^ q).sum(axis=1)
    hit = np.flatnonzero(d <= radius)
    return sorted(zip(d[hit].tolist(), ids[hit].tolist(), strict=True))


def as_pairs(result: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(dist, id_) for id_, dist in result]


def flip(word: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    out = word.copy()
    for b in rng.choice(256, size=k, replace=False):
        out[b // 64] ^= np.uint64(1) << np.uint64(b % 64)
    return out


def random_words(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)


def clustered_words(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noisy copies of 50 centres (each bit flipped with p = 1/16): hot buckets everywhere."""
    centres = random_words(50, rng)
    noise = rng.integers(0, 2**64, size=(4, n, 4), dtype=np.uint64)
    return centres[rng.integers(0, 50, n)] ^ (noise[0] & noise[1] & noise[2] & noise[3])


def to_bytes(word: np.ndarray) -> bytes:
    return word.astype("<u8").tobytes()


@pytest.fixture(scope="module", params=["random", "clustered"])
def dataset(request: pytest.FixtureRequest) -> tuple[np.ndarray, np.ndarray, PdqIndex]:
    rng = np.random.default_rng(RNG_SEED)
    n = 50_000
    words = random_words(n, rng) if request.param == "random" else clustered_words(n, rng)
    ids = rng.permutation(n).astype(np.uint64) + 1_000
    return ids, words, PdqIndex.build(ids, words)


@pytest.mark.parametrize("distance", [0, 10, 31, 32])
def test_exact_recall_against_brute_force(dataset, distance: int) -> None:
    ids, words, index = dataset
    rng = np.random.default_rng(distance)
    for row in rng.integers(0, len(words), 25):
        q = flip(words[row], distance, rng)
        expected = brute_force(ids, words, q, 31)
        assert as_pairs(index.query(q)) == expected
        if distance == 32:  # the hash the query was made from is just out of reach
            assert ids[row] not in [i for i, _ in index.query(q)]


def test_distance_32_does_not_match_at_radius_31() -> None:
    rng = np.random.default_rng(1)
    words = random_words(1_000, rng)
    index = PdqIndex.build(np.arange(1_000), words)
    q = flip(words[7], 32, rng)
    assert 7 not in [i for i, _ in index.query(q)]
    assert (7, 32) in index.query(q, radius=32)
    assert index.query(flip(words[7], 31, rng))[0] == (7, 31)


@pytest.mark.parametrize("radius", [0, 5, 40, 64])
def test_other_radii_are_exact(radius: int) -> None:
    rng = np.random.default_rng(radius)
    words = clustered_words(5_000, rng)
    ids = np.arange(5_000, dtype=np.uint64)
    index = PdqIndex.build(ids, words, radius=31)
    for row in rng.integers(0, 5_000, 10):
        q = flip(words[row], radius // 2, rng)
        assert as_pairs(index.query(q, radius=radius)) == brute_force(ids, words, q, radius)


def test_query_accepts_bytes_hex_and_arrays() -> None:
    rng = np.random.default_rng(2)
    words = random_words(100, rng)
    index = PdqIndex.build(np.arange(100), words.view(np.uint8).reshape(100, 32))
    raw = to_bytes(words[3])
    assert index.query(raw)[0] == (3, 0)
    assert index.query(raw.hex())[0] == (3, 0)
    assert index.query(raw.hex().upper())[0] == (3, 0)
    assert index.query(np.frombuffer(raw, np.uint8))[0] == (3, 0)
    assert index.query(words[3])[0] == (3, 0)
    assert index.query_many([raw, words[4].astype("<u8").tobytes().hex()]) == [[(3, 0)], [(4, 0)]]


def test_add_and_remove_are_visible_immediately() -> None:
    rng = np.random.default_rng(3)
    words = random_words(10_000, rng)
    index = PdqIndex.build(np.arange(10_000), words)
    new = random_words(3, rng)
    index.add(np.array([20_000, 20_001, 20_002]), new)
    assert len(index) == 10_003
    assert index.query(flip(new[1], 12, rng)) == [(20_001, 12)]
    index.remove([5, 20_002])
    assert index.query(words[5]) == []
    assert index.query(new[2]) == []
    assert len(index) == 10_001
    index.remove([5, 999_999])  # removing twice, or an unknown id, changes nothing
    assert len(index) == 10_001
    index.add([5], words[6:7])  # an id comes back with another hash
    assert index.query(words[5]) == []
    assert index.query(words[6]) == [(5, 0), (6, 0)]
    index.compact()
    assert len(index) == 10_002
    assert index.query(words[6]) == [(5, 0), (6, 0)]
    assert index.query(new[1]) == [(20_001, 0)]
    assert index.query(new[2]) == []


def test_duplicate_hashes_with_different_ids() -> None:
    rng = np.random.default_rng(5)
    words = np.repeat(random_words(1, rng), 4, axis=0)
    index = PdqIndex.build(np.array([9, 3, 7, 1]), words)
    assert index.query(flip(words[0], 2, rng)) == [(1, 2), (3, 2), (7, 2), (9, 2)]


def test_empty_index() -> None:
    index = PdqIndex()
    assert len(index) == 0
    assert index.query("00" * 32) == []
    index = PdqIndex.build(np.empty(0, np.uint64), np.empty((0, 32), np.uint8))
    assert index.query(b"\0" * 32) == []
    index.add([1], np.zeros((1, 32), np.uint8))
    assert index.query(b"\0" * 32) == [(1, 0)]


@pytest.mark.parametrize("mmap", [True, False])
def test_save_and_load_round_trip(tmp_path: Path, mmap: bool) -> None:
    rng = np.random.default_rng(6)
    words = clustered_words(20_000, rng)
    ids = np.arange(20_000, dtype=np.uint64) + (1 << 40)  # ids that need 64 bits
    index = PdqIndex.build(ids, words, radius=20)
    index.add([1], words[:1])
    index.remove([ids[2]])
    path = tmp_path / "pdq.idx"
    index.save(path)
    loaded = PdqIndex.load(path, mmap=mmap)
    assert loaded.radius == 20
    assert len(loaded) == len(index)
    assert isinstance(loaded._hashes, np.memmap) is mmap
    for row in rng.integers(0, 20_000, 20):
        q = flip(words[row], 15, rng)
        assert loaded.query(q) == index.query(q)
    assert [p for p in tmp_path.iterdir()] == [path]  # no temporary file left behind
    index.save(path)  # overwriting an existing file, while it is mapped
    assert PdqIndex.load(path).query(words[0]) == index.query(words[0])


def test_load_refuses_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "x"
    bad.write_bytes(b"not an index")
    with pytest.raises(ValueError, match="not a PDQ index"):
        PdqIndex.load(bad)
    index = PdqIndex.build(np.arange(10), random_words(10, np.random.default_rng(0)))
    path = tmp_path / "i"
    index.save(path)
    path.write_bytes(path.read_bytes()[:-64])
    with pytest.raises(ValueError, match="truncated"):
        PdqIndex.load(path)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("ab" * 31, "64 hex characters, got 62"),
        ("ab" * 33, "64 hex characters, got 66"),
        ("zz" * 32, "only the characters 0-9 and a-f"),
        ("", "got 0"),
    ],
)
def test_bad_hex_is_refused(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        hex_to_bytes(value)
    with pytest.raises(ValueError, match=reason):
        PdqIndex().query(value)


def test_bad_shapes_are_refused() -> None:
    index = PdqIndex()
    with pytest.raises(ValueError, match="32 bytes, got 31"):
        index.query(b"\0" * 31)
    with pytest.raises(ValueError, match=r"\(n, 32\) uint8 or \(n, 4\) uint64"):
        PdqIndex.build(np.arange(2), np.zeros((2, 16), np.uint8))
    with pytest.raises(ValueError, match=r"\(n, 32\) uint8 or \(n, 4\) uint64"):
        PdqIndex.build(np.arange(2), np.zeros((2, 32), np.int64))
    with pytest.raises(ValueError, match="expected 2 ids"):
        PdqIndex.build(np.arange(3), np.zeros((2, 32), np.uint8))
    with pytest.raises(ValueError, match="non-negative"):
        index.add([-1], np.zeros((1, 32), np.uint8))
    with pytest.raises(ValueError, match="radius"):
        PdqIndex(radius=300)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(0, 200),
    radius=st.integers(0, 48),
    seed=st.integers(0, 2**32 - 1),
    near=st.integers(0, 40),
)
def test_property_matches_brute_force(n: int, radius: int, seed: int, near: int) -> None:
    rng = np.random.default_rng(seed)
    words = clustered_words(n, rng) if seed % 2 else random_words(n, rng)
    ids = rng.integers(0, 50, n).astype(np.uint64)  # repeated ids too
    index = PdqIndex.build(ids, words, radius=radius)
    q = flip(words[0], near, rng) if n else random_words(1, rng)[0]
    assert as_pairs(index.query(q)) == brute_force(ids, words, q, radius)


def test_many_adds_fold_into_a_side_index_and_persist(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    words = random_words(60_000, rng)
    ids = np.arange(60_000, dtype=np.uint64)
    index = PdqIndex.build(ids[:10_000], words[:10_000])
    for start in range(10_000, 60_000, 5_000):  # 50k adds: the delta overflows several times
        index.add(ids[start : start + 5_000], words[start : start + 5_000])
    assert index._side is not None
    index.remove([3, 20_000, 59_999])
    live = np.ones(60_000, bool)
    live[[3, 20_000, 59_999]] = False
    assert len(index) == 59_997
    path = tmp_path / "pdq.idx"
    index.save(path)
    loaded = PdqIndex.load(path)
    for row in [*rng.integers(0, 60_000, 20), 3, 20_000, 59_999]:
        q = flip(words[row], 20, rng)
        expected = brute_force(ids[live], words[live], q, 31)
        assert as_pairs(index.query(q)) == expected
        assert as_pairs(loaded.query(q)) == expected
    loaded.compact()
    assert loaded._side is None
    assert len(loaded) == 59_997
    assert as_pairs(loaded.query(words[20_001])) == [(0, 20_001)]
