"""Urgency tiers and how long a report of each may wait.

They live in the pure triage engine, the lowest layer that needs them: the engine scores into a
tier, and cases, the console and metrics read the same type from here.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class Tier(StrEnum):
    P1 = "P1"  # immediate: minutes
    P2 = "P2"  # same day
    P3 = "P3"  # days
    P4 = "P4"  # routine


# How long a report of each tier may wait before someone has looked at it. The console shows the
# deadline and whether it has passed; the metrics issue counts the breaches.
DEADLINES: dict[Tier, timedelta] = {
    Tier.P1: timedelta(hours=1),
    Tier.P2: timedelta(hours=24),
    Tier.P3: timedelta(days=7),
    Tier.P4: timedelta(days=30),
}
