"""Partner credentials for the exchange tests."""

from __future__ import annotations

import pytest

from tipline.partners import actions
from tipline.partners.models import Scope


def make_token(name: str, *scopes: str) -> str:
    return actions.credential_create(
        actor="tester", name=name, kind="partner", scopes=list(scopes)
    ).token


@pytest.fixture
def reports_token(db: None) -> str:
    return make_token("Example Platform", Scope.REPORTS)


@pytest.fixture
def other_token(db: None) -> str:
    return make_token("Other Platform", Scope.REPORTS)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
