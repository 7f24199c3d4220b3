"""Locker tests use a fast Argon2 (SecureDrop's tests use a fast KDF the same way)."""

from __future__ import annotations

import pytest
from django.conf import LazySettings


@pytest.fixture(autouse=True)
def _fast_kdf(settings: LazySettings) -> None:
    settings.TIPLINE_LOCKER_ARGON2 = {"time_cost": 1, "memory_kib": 8, "parallelism": 1}
