"""Non-text signals: the category alone lands its default tier; coded answers add named points."""

from __future__ import annotations

import pytest

from tipline.cases import categories
from tipline.triage import engine
from tipline.triage.signals import signals_for


@pytest.mark.parametrize("category", [c.code for c in categories.CATEGORIES])
def test_the_category_alone_lands_its_default_tier(category: str) -> None:
    result = engine.score("", signals=signals_for(category=category, details={}))
    assert result.tier == categories.get(category).default_tier


def test_coded_answers_and_links_are_named_reasons() -> None:
    found = signals_for(
        category="luring",
        details={"meeting_planned": "yes", "victim_age_group": "6-12", "demand": "unknown"},
        linked_reports=3,
    )
    rules = {s.rule for s in found}
    assert rules == {
        "signal.category.luring",
        "signal.answer.meeting_planned.yes",
        "signal.answer.victim_age_group.6-12",
        "signal.linked_reports",
    }
    result = engine.score("", signals=found)
    assert result.tier.value == "P1"


def test_tampered_answers_add_nothing() -> None:
    assert signals_for(category="other", details={"meeting_planned": "<script>", "demand": 7}) == []
