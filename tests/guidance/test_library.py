"""The guidance library: front-matter schema, safe Markdown, language fallback, the pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tipline.guidance import library, markdown
from tipline.guidance.datafile import GuidanceDataError

GOOD = """---
title: A page
summary: Short.
section: prepare
categories: [luring]
last_reviewed: 2026-11-26
sources:
  - title: Somewhere
    url: https://example.org/
---
Body text.
"""


def test_every_page_loads_with_sources_and_review_date() -> None:
    pages = library.load()["en"]
    assert len(pages) >= 13
    for page in pages.values():
        assert page.sources
        assert page.last_reviewed
        assert page.html.strip()
        assert all(s.url.startswith("https://") for s in page.sources)
    required = {
        "what-to-gather",
        "what-never-to-do",
        "signs-for-parents",
        "signs-for-teens",
        "stalking-safety-plan",
        "check-phone-for-stalkerware",
        "after-you-report",
    }
    assert required <= set(pages)
    # Every report category has a step-by-step page.
    covered = {code for page in pages.values() for code in page.categories}
    assert {"child_in_danger", "csam", "luring", "sextortion", "ncii", "cyberstalking"} <= covered


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD.replace("sources:\n  - title: Somewhere\n    url: https://example.org/\n", ""),
            "p.md:2: sources: must be a list",
        ),
        (GOOD.replace("2026-11-26", "last tuesday"), "p.md:6: last_reviewed: must be a date"),
        (GOOD.replace("[luring]", "[nope]"), "p.md:5: categories: unknown category code 'nope'"),
        (
            GOOD.replace("https://example.org/", "javascript:alert(1)"),
            "p.md:9: sources[0].url: must be a full https://",
        ),
        (GOOD.replace("section: prepare", "section: misc"), "p.md:4: section: must be one of"),
        (GOOD.replace("title: A page\n", ""), "p.md:2: title: required text is missing"),
        (GOOD.replace("title: A page", "title: A page\ncolour: red"), "p.md:3: colour: unknown"),
        (GOOD.replace("---\nBody", "Body"), "the front-matter block is not closed"),
        ("# No front matter\n", "p.md:1: a page starts with a front-matter block"),
        (GOOD.replace("title: A page", "title: [unclosed"), "p.md:3: YAML syntax"),
        (GOOD.replace("Body text.\n", ""), "the page has no text"),
    ],
)
def test_front_matter_mistakes_name_file_line_and_field(text: str, message: str) -> None:
    with pytest.raises(GuidanceDataError) as caught:
        library.parse_page("p.md", "p", "en", text)
    assert message in str(caught.value)


def test_a_translation_without_an_english_original_is_refused(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "fr").mkdir()
    (tmp_path / "en" / "a.md").write_text(GOOD)
    (tmp_path / "fr" / "b.md").write_text(GOOD)
    with pytest.raises(GuidanceDataError, match="needs an English original"):
        library.load_dir(tmp_path)


@pytest.mark.parametrize("name", ["Bad Name.md", "x.txt", "UPPER.md"])
def test_odd_file_names_are_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / name).write_text(GOOD)
    with pytest.raises(GuidanceDataError):
        library.load_dir(tmp_path)


def test_an_unknown_language_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "xx").mkdir()
    with pytest.raises(GuidanceDataError, match="not one of the site languages"):
        library.load_dir(tmp_path)


# --- safe rendering ----------------------------------------------------------------------------


def test_raw_html_is_escaped() -> None:
    html = markdown.render('<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n')
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "link",
    [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox)",
        "[x](file:///etc/passwd)",
        "[x](//evil.example/)",
        "<javascript:alert(1)>",
    ],
)
def test_dangerous_links_are_dropped(link: str) -> None:
    html = markdown.render(link)
    assert "<a " not in html, html


def test_images_never_load() -> None:
    assert "<img" not in markdown.render("![tracker](https://evil.example/p.png)")


def test_external_links_leak_no_referrer_and_relative_links_stay_plain() -> None:
    html = markdown.render("[a](https://example.org/) [b](../what-to-gather/)")
    assert '<a href="https://example.org/" rel="noreferrer noopener">a</a>' in html
    assert '<a href="../what-to-gather/">b</a>' in html


# --- pages -------------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def test_index_lists_every_page_and_the_assistant(client: Client) -> None:
    response = client.get("/en/help/")
    body = response.content.decode()
    assert response.status_code == 200
    assert not response.cookies
    assert 'href="/en/help/assistant/"' in body
    for slug in library.slugs():
        assert f'href="/en/help/{slug}/"' in body


def test_a_page_shows_its_sources_and_last_reviewed(client: Client) -> None:
    body = client.get("/en/help/what-to-gather/").content.decode()
    assert "Last reviewed" in body
    assert 'datetime="2026-11-26"' in body
    assert (
        'href="https://www.cybertip.ca/app/en/about-how_it_works" rel="noreferrer noopener"' in body
    )
    assert "<script" not in body.split("<main", 1)[1].split("</main>", 1)[0]


def test_relative_links_in_pages_resolve(client: Client) -> None:
    """Every relative link in every page reaches a real page (no broken guidance links)."""
    for slug in library.slugs():
        body = client.get(f"/en/help/{slug}/").content.decode()
        article = body.split('class="guidance-page">', 1)[1].split("</article>", 1)[0]
        for href in re.findall(r'href="(\.\./[^"]*)"', article):
            target = "/en/help/" + slug + "/" + href
            parts: list[str] = []
            for part in target.split("/"):
                if part == "..":
                    parts.pop()
                elif part:
                    parts.append(part)
            url = "/" + "/".join(parts) + "/"
            assert client.get(url).status_code == 200, (slug, href, url)


def test_a_missing_translation_falls_back_to_english_marked_lang_en(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    english_only = {"en": library.load()["en"]}
    monkeypatch.setattr(library, "load", lambda: english_only)
    body = client.get("/fr/help/what-to-gather/").content.decode()
    assert '<article lang="en"' in body
    assert 'role="note"' in body


@pytest.mark.parametrize("slug", ["nope", "a" * 500, "what-to-gather-x"])
def test_unknown_pages_get_a_friendly_404(client: Client, slug: str) -> None:
    response = client.get(f"/en/help/{slug}/")
    assert response.status_code == 404
    assert b'href="/en/help/assistant/"' in response.content


def test_unknown_language_prefix_is_not_an_error(client: Client) -> None:
    assert client.get("/xx/help/").status_code == 404
    assert client.get("/xx/help/assistant/?node=danger").status_code == 404
