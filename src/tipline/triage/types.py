"""What triage produces: a score, a tier, and the reasons for every point of it.

Every point has a named rule and, where words fired it, the exact span of the reporter's text
(character offsets into the text as given, so the console can highlight the original words even
when matching ran on a normalised copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from tipline.triage.tiers import DEADLINES, Tier


@dataclass(frozen=True)
class Span:
    start: int  # offset into the original text, inclusive
    end: int  # exclusive
    text: str  # original[start:end]


@dataclass(frozen=True)
class Reason:
    rule: str  # rule id, e.g. "en.imminent.meeting_tonight" or "signal.category.child_in_danger"
    points: int
    span: Span | None = None  # None for signals that are not words (category, links, hashes)
    detail: str = ""  # short, non-identifying explanation ("3 linked reports")


@dataclass(frozen=True)
class Signal:
    """A non-text input to the score (category default, linked reports, known-hash match)."""

    rule: str
    points: int
    detail: str = ""


@dataclass(frozen=True)
class Score:
    score: int  # 0..100
    tier: Tier
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    rules_version: str = ""

    @property
    def deadline(self) -> timedelta:
        return DEADLINES[self.tier]
