"""Passphrases: generation, strength estimate, normalisation and the keys derived from them."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from django.conf import LazySettings

from tipline.crypto import passphrase as pp
from tipline.crypto.keyfiles import init_keys


def test_generated_passphrases_have_at_least_80_bits_and_are_fresh() -> None:
    words = pp.word_list()
    assert len(words) == 7776  # the EFF large list, as shipped inside xkcdpass
    phrase = pp.generate()
    assert len(phrase.split(" ")) == pp.GENERATED_WORDS
    assert all(word in words for word in phrase.split(" "))
    assert pp.GENERATED_WORDS * math.log2(len(words)) >= 90
    assert pp.estimate(phrase).strong_enough
    assert len({pp.generate() for _ in range(50)}) == 50


@pytest.mark.parametrize(
    "weak",
    [
        "",
        "password",
        "correct horse battery staple",
        "Tr0ub4dor&3",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "qwertyuiopasdfghjkl",
        "i love you so much my darling",
        # Six words of the EFF list are 77.5 bits: short of 80 even when zxcvbn would say more.
        "abacus abdomen abdominal abide abiding ability",
    ],
)
def test_weak_chosen_passphrases_are_refused(weak: str) -> None:
    assert not pp.estimate(weak).strong_enough


def test_a_long_unusual_sentence_is_accepted() -> None:
    assert pp.estimate(
        "my grey tortoise Humbert eats 4 figs at dawn near Lake Onega!"
    ).strong_enough


def test_estimate_of_a_huge_input_is_fast() -> None:
    started = time.perf_counter()
    pp.estimate("word " * 20_000)
    assert time.perf_counter() - started < 2


def test_normalisation_forgives_case_width_and_spaces() -> None:
    assert pp.normalise("  Lantern\tORBIT  pickle ") == "lantern orbit pickle"
    assert pp.derive("Lantern  orbit pickle").lookup == pp.derive("lantern orbit pickle").lookup


def test_derive_separates_lookup_and_key_and_depends_on_everything(
    settings: LazySettings, tmp_path: Path
) -> None:
    one = pp.derive("lantern orbit pickle mango velvet tundra crisp")
    assert len(one.lookup) == 64
    assert len(one.unlock_key) == 32
    assert one.unlock_key.hex() not in one.lookup
    assert pp.derive("lantern orbit pickle mango velvet tundra crisp") == one
    assert pp.derive("lantern orbit pickle mango velvet tundra crust") != one
    # Parameters come from settings (tests use a fast KDF, production RFC 9106's 64 MiB).
    settings.TIPLINE_LOCKER_ARGON2 = {"time_cost": 2, "memory_kib": 16, "parallelism": 1}
    assert pp.derive("lantern orbit pickle mango velvet tundra crisp") != one
    # The server-wide salt and digest key live in a key file: another server, other values.
    settings.KEY_DIR = tmp_path / "other-keys"
    init_keys(settings.KEY_DIR, stored_data=None)
    settings.TIPLINE_LOCKER_ARGON2 = {"time_cost": 1, "memory_kib": 8, "parallelism": 1}
    assert pp.derive("lantern orbit pickle mango velvet tundra crisp") != one


def test_production_parameters_are_strong() -> None:
    from tipline import settings as production

    params = production.TIPLINE_LOCKER_ARGON2
    assert params["memory_kib"] >= 64 * 1024
    assert params["time_cost"] >= 3


def test_fast_kdf_fixture_is_in_use(settings: LazySettings) -> None:
    assert settings.TIPLINE_LOCKER_ARGON2["memory_kib"] <= 64
