from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.conf import settings as django_settings
from django.utils import translation

from tests.live import LiveServer
from tests.scaleout import RunServices
from tests.seaweed import SeaweedS3, SeaweedS3Bucket
from tipline.crypto.keyfiles import init_keys


@pytest.fixture(scope="session")
def _keys_made_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `tipline keys init` per test run; each test copies the result (creating keys fsyncs
    every file, some 50 ms a test here, where a copy takes 3 ms)."""
    key_dir = tmp_path_factory.mktemp("key-template") / "keys"
    init_keys(key_dir, stored_data=None)
    return key_dir


@pytest.fixture(autouse=True)
def _own_data_root(
    settings: LazySettings,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _keys_made_once: Path,
) -> None:
    """Each test gets its own key and evidence folders (SecureDrop does the same).

    Nothing creates keys at run time, so each test starts with a copy of keys made by
    `init_keys`, as `tipline keys init` would make them (files 0600 in a 0700 folder, recorded).
    They live beside tmp_path, not in it, so that tmp_path starts empty.
    """
    settings.KEY_DIR = tmp_path_factory.mktemp("keys") / "keys"
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    shutil.copytree(_keys_made_once, settings.KEY_DIR)


@pytest.fixture(scope="session")
def _run_services() -> RunServices:
    return RunServices.from_environment()


@pytest.fixture(autouse=True)
def _empty_run_services(_run_services: RunServices) -> None:
    """On the scale-out profile (scripts/with-scaleout), each test starts with no Redis keys
    and no objects in the run's namespace, as it starts with empty tables (tests/scaleout.py).
    On the embedded profile there is nothing to empty."""
    _run_services.empty()


@pytest.fixture(autouse=True)
def _english_between_tests() -> Iterator[None]:
    """A test-client request to /fr/ or /hi/ leaves that language active in this thread (Django
    does not switch back after a response); messages checked by the next test would then be
    French. Every test starts and ends in the default language."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


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


def _forget_matcher_index() -> None:
    # The matcher keeps one loaded index per process (production never needs to forget it: it
    # takes in bank changes as deltas); tests point DATA_DIR elsewhere and must drop it.
    from tipline.matching import matcher

    with matcher._state.lock:
        matcher._state.index, matcher._state.since, matcher._state.checked = None, None, 0.0


@pytest.fixture
def own_index(settings: LazySettings, tmp_path: Path) -> Iterator[None]:
    """A fresh PDQ index under this test's own DATA_DIR."""
    settings.DATA_DIR = tmp_path / "data"
    _forget_matcher_index()
    yield
    _forget_matcher_index()


@pytest.fixture(scope="session")
def seaweed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """One real S3 server (SeaweedFS) for the session's object-storage tests."""
    server = SeaweedS3(tmp_path_factory.mktemp("seaweed")).start()
    yield server
    server.stop()


@pytest.fixture
def s3_store(settings: LazySettings, seaweed_server: SeaweedS3) -> SeaweedS3Bucket:
    """The evidence store on a fresh bucket of the session's S3 server (TIPLINE_STORAGE=s3)."""
    return use_bucket(settings, seaweed_server)


def use_bucket(settings: LazySettings, server: SeaweedS3) -> SeaweedS3Bucket:
    bucket = server.new_bucket()
    for name, value in server.settings_for(bucket).items():
        setattr(settings, name, value)
    return SeaweedS3Bucket(server=server, bucket=bucket)


@pytest.fixture
def one_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every throttled attempt of the test falls in one minute: on a busy machine a test of a
    few hundred guesses crossed a minute's boundary and got a second budget (24 checked, not 12)."""
    from tipline import throttle

    minute = throttle._window()
    monkeypatch.setattr(throttle, "_window", lambda: minute)
