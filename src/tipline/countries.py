"""Country names from CLDR (via babel) in the page's language, for the public site and the console.

Reports store an ISO 3166-1 alpha-2 code (or nothing). CLDR also names regions that are not
countries (001 World, 150 Europe), groupings (EU, EZ, UN), reserved codes (AC Ascension, EA Ceuta
and Melilla, IC Canary Islands...) and test codes (XA, XB, ZZ); only the two-letter codes of actual
ISO 3166-1 countries and territories are offered. XK (Kosovo) is kept: it is user-assigned in
ISO 3166-1 but is what everyone, CLDR included, uses for it.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

from babel import Locale, UnknownLocaleError
from django import forms
from django.conf import settings
from django.forms.utils import flatatt
from django.utils import translation
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)


def sort_key(name: str) -> str:
    # "Åland" sorts with the A's and "Côte d'Ivoire" with the C's: compare without accents.
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@functools.cache
def _names(language: str) -> tuple[tuple[str, str], ...]:
    try:
        locale = Locale.parse(translation.to_locale(language))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse(translation.to_locale(settings.LANGUAGE_CODE))
    found = {
        code: name
        for code, name in locale.territories.items()
        if len(code) == 2 and code.isascii() and code.isalpha() and code not in _NOT_COUNTRIES
    }
    return tuple(sorted(found.items(), key=lambda item: (sort_key(item[1]), item[0])))


@functools.cache
def _lookup(language: str) -> dict[str, str]:
    return dict(_names(language))


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def by_name() -> tuple[tuple[str, str], ...]:
    """(code, name) pairs sorted by name in the active language."""
    return _names(_language())


def name(code: str) -> str:
    """The country's name in the active language, or the code itself if it is not known."""
    return _lookup(_language()).get(code, code)


class QuickSelect(forms.Select):
    """A select whose ~250 options are written in Python rather than one template render each.

    Through Django's option templates the country list costs ~35 ms per page, more than the rest
    of the report form together. Every value and label goes through ``escape``.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        chosen = {str(v) for v in value} if isinstance(value, list | tuple) else {str(value)}
        options = "".join(
            f'<option value="{escape(code)}"{" selected" if str(code) in chosen else ""}>'
            f"{escape(label)}</option>"
            for code, label in self.choices
        )
        attributes = flatatt(self.build_attrs(self.attrs, attrs))
        # Safe: the name and attributes are escaped by format_html/flatatt, the options above.
        return format_html('<select name="{}"{}>{}</select>', name, attributes, mark_safe(options))  # noqa: S308
