"""Shared fixtures: API credentials and a PDQ index of the test's own."""

from __future__ import annotations

import pytest

from tipline.partners import actions
from tipline.partners.models import Scope


@pytest.fixture(autouse=True)
def _own_index(own_index: None) -> None:
    """Every partner test matches against an index of its own (tests/conftest.py)."""


@pytest.fixture
def partner_token(db: None) -> str:
    return actions.credential_create(
        actor="tester", name="Example Platform", kind="partner", scopes=[Scope.MATCH]
    ).token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
