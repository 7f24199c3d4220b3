"""Fuzzing in the suite: a few hundred inputs per import path; only ParseError may escape.

benchmarks/evidence_fuzz.py runs the same strategies for 100,000+ inputs per path.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.locker.parsers.strategies import import_paths
from tipline.locker.parsers import parse
from tipline.locker.types import Item, ParseError, ParseResult

PATHS = import_paths()


@pytest.mark.parametrize("path", sorted(PATHS))
def test_fuzz_import_path(path: str) -> None:
    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=PATHS[path])
    def check(data: bytes) -> None:
        try:
            result = parse(data, "input")
        except ParseError as error:
            # The message is shown to the victim: it must say something.
            message = str(error)
            assert message.strip(), "ParseError without a message"
            return
        assert isinstance(result, ParseResult)
        assert all(isinstance(item, Item) for item in result.items)
        assert all(isinstance(warning, str) for warning in result.warnings)
        assert all(isinstance(body, bytes) for body in result.media.values())

    check()


def test_strategies_cover_every_path() -> None:
    assert set(PATHS) >= {
        "whatsapp-txt",
        "whatsapp-zip",
        "telegram",
        "meta",
        "sms-backup",
        "eml",
        "screenshot",
    }
    assert isinstance(PATHS["eml"], st.SearchStrategy)
