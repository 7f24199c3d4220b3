"""Fixtures: the real DNS, RDAP, web and SMTP servers, and settings pointing Tipline at them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings as SettingsWrapper

from tests.takedown.imap_server import PASSWORD, USER, DovecotServer
from tests.takedown.servers import DnsServer, HttpServer, SmtpServer


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer().start()
    yield server
    server.stop()


@pytest.fixture
def rdap_server() -> Iterator[HttpServer]:
    server = HttpServer().start()
    yield server
    server.stop()


@pytest.fixture
def web_server() -> Iterator[HttpServer]:
    server = HttpServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


PROVIDERS = """
providers:
  - name: Table Hosting
    suffixes: [table-host.test]
    networks: [203.0.113.0/24]
    abuse: abuse@table-host.test
    language: fr
    country: FR
"""


@pytest.fixture
def takedown_settings(
    settings: SettingsWrapper,
    tmp_path: Path,
    dns_server: DnsServer,
    rdap_server: HttpServer,
    smtp_server: SmtpServer,
) -> SettingsWrapper:
    providers = tmp_path / "providers.yaml"
    providers.write_text(PROVIDERS)
    settings.TIPLINE_TAKEDOWN_RESOLVER = dns_server.address
    settings.TIPLINE_TAKEDOWN_RDAP_URL = rdap_server.url("/rdap/")
    settings.TIPLINE_TAKEDOWN_PROVIDERS = str(providers)
    settings.TIPLINE_TAKEDOWN_LOOKUP_TIMEOUT = 1.0
    settings.TIPLINE_TAKEDOWN_CHECK_TIMEOUT = 2.0
    settings.TIPLINE_TAKEDOWN_FROM = "notices@hotline.test"
    settings.TIPLINE_HOTLINE_NAME = "Test Hotline"
    settings.MAILERS = {
        **settings.MAILERS,
        "notices": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": smtp_server.port, "timeout": 5},
        },
    }
    return settings


@pytest.fixture
def imap_server() -> Iterator[DovecotServer]:
    server = DovecotServer().start()
    yield server
    server.stop()


@pytest.fixture
def imap_settings(
    settings: SettingsWrapper, imap_server: DovecotServer, tmp_path: Path
) -> SettingsWrapper:
    secret = tmp_path / "imap-password"
    secret.write_text(PASSWORD + "\n")
    settings.TIPLINE_TAKEDOWN_IMAP_HOST = "127.0.0.1"
    settings.TIPLINE_TAKEDOWN_IMAP_PORT = imap_server.port
    settings.TIPLINE_TAKEDOWN_IMAP_SECURITY = "none"  # loopback only (config.imap_load)
    settings.TIPLINE_TAKEDOWN_IMAP_USER = USER
    settings.TIPLINE_TAKEDOWN_IMAP_PASSWORD_FILE = str(secret)
    return settings
