"""Non-text signals as named reasons: category, coded answers, linked reports, known hashes.

Their points are in ``data/scoring.yaml`` beside the thresholds (``signal.*``), so a hotline
tunes them where it tunes the rest; a signal the file does not name adds nothing.
"""

from __future__ import annotations

from typing import Any

from tipline.triage import engine
from tipline.triage.types import Signal

# Coded form answers that may carry risk (the public form's own codes).
ANSWER_FIELDS = (
    "meeting_planned",
    "threats_made",
    "knows_location",
    "emergency_called",
    "demand",
    "victim_age_group",
)


def _named(rule: str, detail: str = "") -> Signal | None:
    try:
        found = engine.signal(rule, detail)
    except KeyError:
        return None
    return found if found.points else None


def signals_for(
    *, category: str, details: dict[str, Any], linked_reports: int = 0, known_hashes: int = 0
) -> list[Signal]:
    """The named non-text reasons for a report (only those worth points)."""
    names = [(f"signal.category.{category}", "")]
    for field in ANSWER_FIELDS:
        answer = details.get(field)
        if isinstance(answer, str) and answer:
            names.append((f"signal.answer.{field}.{answer}", ""))
    if linked_reports:
        names.append(("signal.linked_reports", f"{linked_reports} linked"))
    if known_hashes:
        names.append(("signal.known_hash", f"{known_hashes} known"))
    return [s for name, detail in names if (s := _named(name, detail)) is not None]
