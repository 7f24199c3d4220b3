"""Accessibility of the whole public site, in every language: WCAG 2.2 AA as axe-core checks it,
reflow at 320 px and at 200 % zoom, visible focus, and a report completed with the keyboard only.

The crawl starts at each language's home page and follows every same-site link under that
language's prefix (GET only), so pages added later are covered without touching this file.
axe-core comes from the npm registry, pinned in tests/browser/axe/package-lock.json and
installed by `make axe` (`npm ci`); nothing is downloaded while the tests run.
"""

from __future__ import annotations

import json
import re
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import OpenPage, Watched

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
LANGUAGES = ("en", "fr", "hi")
PAGES_PER_LANGUAGE = 80
# 1280 px at 200 % zoom lays out like a 640 px window; 320 px is WCAG 1.4.10's reflow width.
REFLOW_WIDTHS = (640, 320)
# Pages every crawl must have reached (the crawl finds them by links; this proves it did).
MUST_VISIT = (
    "/",
    "/emergency/",
    "/follow-up/",
    "/help/",
    "/locker/",
    *(
        f"/report/{code}/"
        for code in ("child_in_danger", "csam", "luring", "sextortion", "ncii", "cyberstalking")
    ),
    "/report/other/",
    "/help/assistant/",
    "/offline/",
)

SEEDS = ("/", "/offline/", "/help/assistant/")
SCREENSHOTS = {"/en/", "/hi/", "/fr/help/", "/hi/offline/", "/en/report/sextortion/"}

_AXE_RUN = "async (options) => (await axe.run(document, options)).violations"
_LINKS = "() => Array.from(document.querySelectorAll('a[href]'), (a) => a.href)"
_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed: run `make axe` ({AXE} is missing)")
    return AXE.read_text()


def describe(path: str, violations: list[dict[str, Any]]) -> list[str]:
    """One readable line per failing element: the rule, its impact, where, and how to fix it."""
    lines = []
    for v in violations:
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"{path}: [{v['impact']}] {v['id']} at {target}: {v['help']}. {summary}")
    return lines


def run_axe(page: Page, source: str) -> list[dict[str, Any]]:
    # Injected through the DevTools protocol, which the page's CSP (script-src 'self') allows.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    # Building CSS selectors for every checked element is much of axe's time: only for failures.
    violations: list[dict[str, Any]] = page.evaluate(_AXE_RUN, {**AXE_OPTIONS, "selectors": False})
    if violations:
        violations = page.evaluate(_AXE_RUN, AXE_OPTIONS)
    return violations


def reflow_problems(page: Page, path: str, shots: Path | None = None) -> list[str]:
    problems = []
    for width in REFLOW_WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        overflow = page.evaluate(_OVERFLOW)
        if overflow > 0:
            problems.append(f"{path}: scrolls sideways by {overflow}px at {width}px wide")
        if shots is not None:
            name = path.strip("/").replace("/", "-") or "root"
            page.screenshot(path=str(shots / f"a11y-{name}-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    return problems


def same_language_links(page: Page, base: str, lang: str) -> list[str]:
    found = []
    for href in page.evaluate(_LINKS):
        url, _fragment = urldefrag(href)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != base or not parts.path.startswith(f"/{lang}/"):
            continue
        if "neutral=" in parts.query:  # the same page with another title: crawled once
            continue
        found.append(url[len(base) :])
    return found


def crawl(w: Watched, lang: str, source: str, shots: Path) -> tuple[list[str], list[str]]:
    """Visit the language's pages; return (visited paths, problems found)."""
    page, problems = w.page, []
    # The offline page and the assistant are seeded: they need not be linked from anywhere.
    seeds = [f"/{lang}{p}" for p in SEEDS]
    queue, seen, visited = deque(seeds), set(seeds), []
    while queue and len(visited) < PAGES_PER_LANGUAGE:
        path = queue.popleft()
        response = page.goto(w.url(path))
        assert response is not None
        if response.status != 200:
            problems.append(f"{path}: HTTP {response.status}")
            continue
        visited.append(path)
        problems += describe(path, run_axe(page, source))
        problems += reflow_problems(page, path, shots if path in SCREENSHOTS else None)
        for link in same_language_links(page, w.base_url, lang):
            # The assistant's steps share one template: its first steps are enough, not every
            # path through the tree (tests/guidance walks those).
            if "/help/assistant/?" in path and "/help/assistant/" in link:
                continue
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return visited, problems


@pytest.mark.browser
def test_every_public_page_passes_axe_and_reflows(
    open_page: OpenPage, screenshot_dir: Path
) -> None:
    source = axe_source()
    w = open_page(js=True, width=1280)
    problems: list[str] = []
    visited: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        visited[lang], found = crawl(w, lang, source, screenshot_dir)
        problems += found
        reached = {p.removeprefix(f"/{lang}") for p in visited[lang]}
        missing = [p for p in MUST_VISIT if p not in reached]
        assert not missing, f"the {lang} crawl never reached {missing}"
        guidance = [p for p in reached if p.startswith("/help/") and p.count("/") == 3]
        assert len(guidance) > 1, f"the {lang} crawl found no guidance pages"
        assert any("/help/assistant/?" in p for p in reached), "no assistant step was reached"
    # The error state of a form: submitted empty, the summary and every field message shown.
    page = w.page
    page.goto(w.url("/en/report/luring/"))
    with page.expect_navigation():
        page.get_by_role("button", name="Send report").click()
    expect(page.locator("#form-errors")).to_be_focused()
    problems += describe("/en/report/luring/ (errors)", run_axe(page, source))
    problems += reflow_problems(page, "/en/report/luring/ (errors)")
    page.set_viewport_size({"width": 320, "height": 800})
    page.screenshot(path=str(screenshot_dir / "a11y-form-errors-320.png"), full_page=True)
    # The harness itself: axe must see a violation planted on purpose.
    page.evaluate("() => document.querySelector('main').append(document.createElement('img'))")
    planted = {v["id"] for v in run_axe(page, source)}
    assert "image-alt" in planted, planted
    (screenshot_dir.parent / "a11y-crawl.json").write_text(json.dumps(visited, indent=1))
    assert not problems, "\n" + "\n".join(problems)
    w.check()


def focused(page: Page) -> dict[str, Any]:
    """The focused element and whether its focus indicator is strong enough to see."""
    info: dict[str, Any] = page.evaluate(
        """() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          return {
            tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '',
            href: el.getAttribute('href') || '', value: el.getAttribute('value') || '',
            text: (el.innerText || '').trim().slice(0, 40),
            outline: style.outlineStyle !== 'none' ? parseFloat(style.outlineWidth) : 0,
          };
        }"""
    )
    return info


def tab_to(page: Page, wanted: Any, *, key: str = "Tab", limit: int = 80) -> dict[str, Any]:
    """Press Tab (or Shift+Tab) until ``wanted(info)``; every stop must show a visible focus."""
    for _ in range(limit):
        page.keyboard.press(key)
        info = focused(page)
        if info["tag"] != "body":
            assert info["outline"] >= 3, f"focus not visible on {info}"
        if wanted(info):
            return info
    raise AssertionError(f"never reached the wanted element with {key}")


@pytest.mark.browser
def test_report_with_the_keyboard_only(open_page: OpenPage, screenshot_dir: Path) -> None:
    """Tab, Shift+Tab, Space and Enter only (no mouse), from the home page to a receipt."""
    w = open_page(js=True, width=390, height=800)
    page = w.page
    page.goto(w.url("/en/"))
    first = tab_to(page, lambda i: True)
    assert first["href"] == "#main", "the first Tab stop is the skip link"
    # The categories are buttons (intake/views.start).
    tab_to(page, lambda i: i["tag"] == "button" and i["value"] == "cyberstalking")
    page.screenshot(path=str(screenshot_dir / "a11y-keyboard-focus.png"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, lambda i: i["id"] == "id_what_happened")
    page.keyboard.type("Someone I do not know follows me on every app and posts my address.")
    tab_to(page, lambda i: i["id"] == "id_platform")
    page.keyboard.type("Instagram")
    # Back one field with Shift+Tab, as a reporter correcting an answer would.
    tab_to(page, lambda i: i["id"] == "id_when", key="Shift+Tab")
    page.keyboard.type("Every evening this week")
    # Radio buttons: Tab reaches the group; Space chooses the focused option.
    tab_to(page, lambda i: i["name"] == "contact_choice")
    page.keyboard.press("Space")
    tab_to(page, lambda i: i["tag"] == "button" and i["text"] == "Send report")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Your report was received")
    expect(page.locator("#receipt")).to_have_text(re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$"))
    w.check()
