"""Reply templates for messages to reporters: ``data/replies/<language>.toml``.

A template is a starting point an analyst picks in the case view's message form and edits before
sending; it is never sent by itself, so a reporter always gets a reply a person read. Texts are
data, one file per reporter language (the public site's: en, fr, hi), so a hotline's writers
and translators change them without code. The files are validated when first read: every
language has the same keys, categories are known codes, and each text fits a message.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from tipline.cases import categories

LANGUAGES = ("en", "fr", "hi")
ALL = "all"
# A hotline message holds up to 5,000 characters (console/forms.HotlineMessageForm); a template
# leaves room for the analyst's own words.
MAX_BODY = 4000


class RepliesConfigError(ValueError):
    """A replies file is malformed; the message names the file and template."""


@dataclass(frozen=True)
class Reply:
    key: str
    title: str
    body: str
    categories: tuple[str, ...]  # category codes, or ("all",)

    def fits(self, category: str) -> bool:
        return ALL in self.categories or category in self.categories


def _parse_one(language: str, text: str) -> dict[str, Reply]:
    where = f"replies/{language}.toml"
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RepliesConfigError(f"{where}: not valid TOML: {exc}") from None
    found = {}
    for key, entry in doc.items():
        if not isinstance(entry, dict) or set(entry) != {"categories", "title", "body"}:
            raise RepliesConfigError(f"{where} [{key}]: sets exactly categories, title and body")
        codes, title, body = entry["categories"], entry["title"], entry["body"]
        if not isinstance(codes, list) or not codes:
            raise RepliesConfigError(f"{where} [{key}]: categories is a list of codes or ['all']")
        for code in codes:
            if code != ALL and code not in categories.CODES:
                raise RepliesConfigError(f"{where} [{key}]: no such category {code!r}")
        if not isinstance(title, str) or not 0 < len(title.strip()) <= 120:
            raise RepliesConfigError(f"{where} [{key}]: a title of 1-120 characters")
        if not isinstance(body, str) or not 0 < len(body.strip()) <= MAX_BODY:
            raise RepliesConfigError(f"{where} [{key}]: a body of 1-{MAX_BODY} characters")
        found[key] = Reply(key=key, title=title.strip(), body=body.strip(), categories=tuple(codes))
    return found


def parse(texts: Mapping[str, str]) -> dict[str, dict[str, Reply]]:
    """language -> key -> Reply; every language must offer the same templates."""
    replies = {language: _parse_one(language, text) for language, text in texts.items()}
    keys = [set(by_key) for by_key in replies.values()]
    if keys and any(k != keys[0] for k in keys):
        raise RepliesConfigError("every replies file must have the same templates")
    for key in keys[0] if keys else ():
        if len({replies[lang][key].categories for lang in replies}) != 1:
            raise RepliesConfigError(f"[{key}]: the same categories in every language")
    return replies


@functools.cache
def load() -> dict[str, dict[str, Reply]]:
    folder = resources.files("tipline.console").joinpath("data/replies")
    return parse(
        {lang: folder.joinpath(f"{lang}.toml").read_text(encoding="utf-8") for lang in LANGUAGES}
    )


def for_category(category: str, language: str) -> list[Reply]:
    """The templates that fit a report's category, in the file's order, in one language."""
    by_key = load().get(language) or load()["en"]
    return [reply for reply in by_key.values() if reply.fits(category)]


def find(key: str, language: str, category: str) -> Reply | None:
    """One template, only if it exists in that language and fits the category."""
    reply = load().get(language, {}).get(key)
    return reply if reply is not None and reply.fits(category) else None


def reporter_language(language: str) -> str:
    """The language the reporter used, if we have templates in it; English otherwise."""
    base = (language or "").split("-")[0].lower()
    return base if base in LANGUAGES else "en"
