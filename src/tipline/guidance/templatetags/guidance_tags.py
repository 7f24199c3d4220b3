"""Emergency numbers from the jurisdiction table, for any public template."""

from __future__ import annotations

from typing import Any

from django import template

from tipline import countries
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
