"""The guidance library: Markdown pages with a front-matter block, one folder per language.

``data/pages/<lang>/<slug>.md``. English is the reference: every page exists in English, and a
page missing in another language is shown in English, marked ``lang="en"`` with a short notice,
rather than not at all. Front matter is checked at start-up (``guidance.E001``) so a page with a
missing source or review date never reaches a reader.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tipline.cases import categories
from tipline.guidance import markdown
from tipline.guidance.datafile import DATA_DIR, GuidanceDataError, Reader, load_yaml

PAGES_DIR = DATA_DIR / "pages"
REFERENCE_LANGUAGE = "en"
SLUG = re.compile(r"\A[a-z0-9]+(?:-[a-z0-9]+)*\Z")
MAX_PAGE_BYTES = 64 * 1024

# The index groups pages under these headings, in this order.
SECTIONS: dict[str, Promise] = {
    "report": _("How to report"),
    "prepare": _("Before you report"),
    "signs": _("Signs to look for"),
    "safety": _("Staying safe"),
    "after": _("After you report"),
}


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Page:
    slug: str
    language: str
    title: str
    summary: str
    section: str
    order: int
    categories: tuple[str, ...]
    last_reviewed: datetime.date
    sources: tuple[Source, ...]
    html: str


@dataclass(frozen=True)
class Shown:
    """A page as served for a requested language (possibly the English fallback)."""

    page: Page
    requested: str

    @property
    def fallback(self) -> bool:
        return self.page.language != self.requested


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(DATA_DIR.parent.parent.parent.parent))
    except ValueError:
        return str(path)


def split_front_matter(path: str, text: str) -> tuple[str, str, int]:
    """(front matter, body, line where the front matter starts)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise GuidanceDataError(path, 1, "a page starts with a front-matter block: a line '---'")
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), 2
    raise GuidanceDataError(path, 1, "the front-matter block is not closed with a line '---'")


def parse_page(path: str, slug: str, language: str, text: str) -> Page:
    front, body, first_line = split_front_matter(path, text)
    reader = Reader(path, load_yaml(path, front, first_line=first_line))
    reader.only("title", "summary", "section", "order", "categories", "last_reviewed", "sources")
    section = reader.text("section", max_length=20)
    if section not in SECTIONS:
        raise reader.fail("section", f"must be one of: {', '.join(SECTIONS)}")
    order = reader.mapping.get("order", 100)
    if not isinstance(order, int) or isinstance(order, bool):
        raise reader.fail("order", "must be a whole number")
    codes = []
    for code, line in reader.strings("categories", required=False):
        if code not in categories.CODES:
            raise GuidanceDataError(path, line, f"categories: unknown category code {code!r}")
        codes.append(code)
    sources = []
    for item in reader.items("sources"):
        item.only("title", "url")
        sources.append(Source(title=item.text("title", max_length=300), url=item.url("url")))
    if not sources:
        raise reader.fail("sources", "every page cites at least one source")
    if not body.strip():
        raise GuidanceDataError(path, first_line, "the page has no text after the front matter")
    return Page(
        slug=slug,
        language=language,
        title=reader.text("title", max_length=200),
        summary=reader.text("summary", max_length=400),
        section=section,
        order=order,
        categories=tuple(codes),
        last_reviewed=reader.date("last_reviewed"),
        sources=tuple(sources),
        html=markdown.render(body),
    )


def load_dir(root: Path) -> dict[str, dict[str, Page]]:
    """{language: {slug: page}} for every ``<root>/<lang>/<slug>.md``."""
    languages = {code for code, _name in settings.LANGUAGES}
    found: dict[str, dict[str, Page]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name not in languages:
            raise GuidanceDataError(_display(folder), 1, "folder is not one of the site languages")
        pages: dict[str, Page] = {}
        for file in sorted(folder.iterdir()):
            shown = _display(file)
            if file.is_symlink() or not file.is_file() or file.suffix != ".md":
                raise GuidanceDataError(shown, 1, "only <slug>.md files belong here")
            if not SLUG.match(file.stem):
                raise GuidanceDataError(shown, 1, "file names are lower-case words joined by -")
            data = file.read_bytes()
            if len(data) > MAX_PAGE_BYTES:
                raise GuidanceDataError(shown, 1, f"larger than {MAX_PAGE_BYTES} bytes")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise GuidanceDataError(shown, 1, "not UTF-8 text") from exc
            pages[file.stem] = parse_page(shown, file.stem, folder.name, text)
        found[folder.name] = pages
    reference = found.get(REFERENCE_LANGUAGE, {})
    if not reference:
        raise GuidanceDataError(_display(root), 1, "there are no English pages")
    for language, pages in found.items():
        for slug in pages:
            if slug not in reference:
                where = _display(root / language / f"{slug}.md")
                raise GuidanceDataError(where, 1, "a translated page needs an English original")
    return found


@functools.cache
def load() -> dict[str, dict[str, Page]]:
    return load_dir(PAGES_DIR)


def slugs() -> list[str]:
    return list(load()[REFERENCE_LANGUAGE])


def get(slug: str, language: str) -> Shown | None:
    pages = load()
    page = pages.get(language, {}).get(slug) or pages[REFERENCE_LANGUAGE].get(slug)
    return Shown(page=page, requested=language) if page else None


def index(language: str) -> list[tuple[Promise, list[Shown]]]:
    """Pages grouped by section, in the requested language where translated."""
    shown = [get(slug, language) for slug in slugs()]
    groups = []
    for key, label in SECTIONS.items():
        members = sorted(
            (s for s in shown if s and s.page.section == key),
            key=lambda s: (s.page.order, s.page.title),
        )
        if members:
            groups.append((label, members))
    return groups
