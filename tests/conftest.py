from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings

from tests.live import LiveServer


@pytest.fixture(autouse=True)
def _own_data_root(settings: LazySettings, tmp_path: Path) -> None:
    """Each test gets its own key and evidence folders (SecureDrop does the same)."""
    settings.KEY_DIR = tmp_path / "keys"
    settings.EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture(scope="session")
def live_server_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server for the session's end-to-end tests."""
    server = LiveServer(root=tmp_path_factory.mktemp("live"))
    server.setup()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real server of a test's own, for tests that inspect or kill it."""
    server = LiveServer(root=tmp_path / "server")
    server.setup()
    server.start()
    yield server
    server.stop()
