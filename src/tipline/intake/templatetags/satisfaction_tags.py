"""``{% satisfaction_form category.code "submitted" %}``: the feedback form as an include, so the
receipt and follow-up views need no change."""

from __future__ import annotations

from typing import Any

from django import template

from tipline.intake.feedback import form_for

register = template.Library()


@register.inclusion_tag("intake/_satisfaction.html")
def satisfaction_form(category: str, stage: str) -> dict[str, Any]:
    return {"form": form_for(category, stage)}
