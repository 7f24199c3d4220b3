"""Playwright fixtures: one headless Debian Chromium per session, a fresh context per test.

Every page opened through ``open_page`` is watched: a request to any host other than the test
server, a Content-Security-Policy violation, a JavaScript error or a cookie fails the test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    sync_playwright,
)

from tests.live import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOST = "127.0.0.1"
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Chromium logs "Failed to load resource" for any non-2xx response, including the documents we
# expect to be 400 (form errors), 403 (a locker page posted after the locker was locked) or 404
# (unknown receipt, missing page). Those are not bugs.
_EXPECTED_DOCUMENT_STATUSES = ("status of 400", "status of 403", "status of 404")
# The site has no icon yet, so Chromium's own /favicon.ico probe is answered 404 (same host).
_FAVICON = "/favicon.ico"


@dataclass
class Watched:
    """A browser context and its page, with everything suspicious they did."""

    context: BrowserContext
    page: Page
    base_url: str
    js: bool
    requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    documents: set[str] = field(default_factory=set)
    checked: bool = False

    def url(self, path: str) -> str:
        return self.base_url + path

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)
        if request.resource_type == "document":
            self.documents.add(request.url)
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname != LOCAL_HOST:
            self.foreign_requests.append(request.url)

    def on_console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content-Security-Policy" in text or "Content Security Policy" in text:
            self.problems.append(f"CSP violation: {text}")
        elif message.type == "error":
            where = (message.location or {}).get("url", "")
            expected = (
                text.startswith("Failed to load resource")
                and any(s in text for s in _EXPECTED_DOCUMENT_STATUSES)
                and (where in self.documents or urlsplit(where).path == _FAVICON)
            )
            if not expected:
                self.problems.append(f"console error: {text} ({where})")

    def on_page_error(self, error: Exception) -> None:
        self.problems.append(f"JavaScript error: {error}")

    def check(self) -> None:
        """The privacy and safety promises of the public site, as seen from the browser."""
        self.checked = True
        assert self.foreign_requests == [], "the browser contacted another host"
        assert self.problems == []
        assert self.context.cookies() == []


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


OpenPage = Callable[..., Watched]


def watch(
    browser: Browser, base_url: str, *, js: bool = True, width: int = 1280, height: int = 900
) -> Watched:
    """A fresh browser context and page, with every request, console message and error watched."""
    context = browser.new_context(
        java_script_enabled=js,
        viewport={"width": width, "height": height},
        locale="en-GB",
        service_workers="block",
    )
    # 20 s: a locker page (Argon2 key derivation, then unsealing) once took over 10 s to arrive
    # while the PostgreSQL leg and other tests shared the machine's two cores.
    context.set_default_timeout(20_000)
    page = context.new_page()
    watched = Watched(context=context, page=page, base_url=base_url, js=js)
    page.on("request", watched.on_request)
    page.on("console", watched.on_console)
    page.on("pageerror", watched.on_page_error)
    return watched


@pytest.fixture
def open_page(browser: Browser, live_server_process: LiveServer) -> Iterator[OpenPage]:
    """Factory: ``open_page(js=True, width=390)`` gives a watched page in a fresh context."""
    opened: list[Watched] = []

    def factory(*, js: bool = True, width: int = 1280, height: int = 900) -> Watched:
        watched = watch(browser, live_server_process.url, js=js, width=width, height=height)
        opened.append(watched)
        return watched

    yield factory
    for watched in opened:
        try:
            if not watched.checked:
                watched.check()
        finally:
            watched.context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


def wait_until(page: Page, function: str, arg: Any = None, timeout: float = 30) -> None:
    """Poll ``page.evaluate(function, arg)`` until it is truthy.

    Not ``page.wait_for_function``: when its first check fails, Playwright polls a predicate it
    compiles inside the page, which our Content-Security-Policy (no 'unsafe-eval') refuses.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(function, arg):
        assert time.monotonic() < deadline, f"never true: {function}"
        time.sleep(0.1)
