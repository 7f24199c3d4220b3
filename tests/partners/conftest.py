"""Shared fixtures: API credentials and a PDQ index of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings

from tipline.matching import matcher
from tipline.partners import actions
from tipline.partners.models import Scope


@pytest.fixture(autouse=True)
def _own_index(settings: LazySettings, tmp_path: Path) -> Iterator[None]:
    """The matcher keeps one index per process, under DATA_DIR: give each test a fresh one."""
    settings.DATA_DIR = tmp_path / "data"
    matcher.reset()
    yield
    matcher.reset()


@pytest.fixture
def partner_token(db: None) -> str:
    return actions.credential_create(
        actor="tester", name="Example Platform", kind="partner", scopes=[Scope.MATCH]
    ).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
