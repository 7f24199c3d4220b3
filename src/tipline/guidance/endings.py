"""What an ending of the assistant shows: its text, guidance pages, and the country's numbers.

Shared by the question tree (guidance.views) and the "in your own words" step, whose answer is
the same ending reached by reading the reporter's text instead of asking questions.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import get_language

from tipline import countries
from tipline.cases import categories
from tipline.guidance import assistant as tree_module
from tipline.guidance import jurisdictions, library

# A country answer meaning "not in the list": general advice, no numbers guessed.
OTHER_COUNTRY = "other"


def _language() -> str:
    return get_language() or settings.LANGUAGE_CODE


def country_choices() -> list[tuple[str, str]]:
    known = [(code, countries.name(code)) for code in jurisdictions.load()]
    return sorted(known, key=lambda item: countries.sort_key(item[1]))


def context(ending: tree_module.Ending, country_param: str) -> dict[str, Any]:
    language = _language()
    context: dict[str, Any] = {
        "ending": ending,
        "title": ending.title.get(language),
        "text": ending.text.get(language),
        "category": categories.get(ending.category) if ending.category else None,
        "page": library.get(ending.page, language) if ending.page else None,
        "pages": [library.get(slug, language) for slug in ending.pages],
        "country_choices": country_choices(),
        "other_country": OTHER_COUNTRY,
        "country": None,
        "country_other": False,
        "country_unknown": False,
        "agency": None,
    }
    if not ending.needs_country or not country_param:
        return context
    if country_param == OTHER_COUNTRY:
        context["country_other"] = True
        return context
    country = jurisdictions.get(country_param)
    if country is None:
        context["country_unknown"] = True
        return context
    context["country"] = country
    context["country_name"] = countries.name(country.code)
    context["agency"] = country.agency(ending.agency) if ending.agency else None
    return context
