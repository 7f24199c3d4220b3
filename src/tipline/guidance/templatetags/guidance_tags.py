"""Emergency numbers and after-report help from the guidance data, for any public template."""

from __future__ import annotations

from typing import Any

from django import template

from tipline import countries
from tipline.guidance import after_report as after_report_data
from tipline.guidance import jurisdictions

register = template.Library()


@register.simple_tag
def emergency_countries() -> list[dict[str, Any]]:
    """Every country with a sourced emergency number, sorted by name in the page's language."""
    rows = [
        {"code": code, "name": countries.name(code), "tels": entry.emergency_tels}
        for code, entry in jurisdictions.load().items()
    ]
    return sorted(rows, key=lambda row: countries.sort_key(row["name"]))


@register.simple_tag
def after_report(category: str, country: str = "") -> after_report_data.AfterReport:
    """``{% after_report category.code country as help %}`` for the receipt page."""
    return after_report_data.for_report(category, country)
