"""Dashboard figures kept per refresh: a repeated page is one lookup, never stale.

Why: every figure of the dashboard that is not about the time now is a function of the derived
tables (facts, rollup, tally), and those change only when the refresh task commits. So the
figures for a (period, filters, scope) are computed once per *refresh version* — a counter the
refresh moves, in the same transaction as its writes, only when it took something in — and kept
in ``FigureCache`` under a key that holds that version. A page after a refresh that changed
something finds no row for the new version and computes; every page after it, until the next
such refresh, reads one row (the CSV downloads of the same page too). What moves with the clock
(open and overdue now, the backlog's age bands, takedown) is never kept here
(``selectors.figures`` computes it on every call).

The version is read before the figures are computed, so a row never holds figures older than
its version; rows of other versions are deleted when a new one is written. Nothing here is a
source: the table may be emptied at any time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, transaction

from tipline.metrics import tally
from tipline.metrics.models import Cursor, FigureCache
from tipline.metrics.period import Filters, Period

logger = logging.getLogger(__name__)
VERSION = "version"  # the ``Cursor`` row the refresh and the rebuild move


def version() -> int:
    return Cursor.objects.filter(name=VERSION).values_list("seq", flat=True).first() or 0


def key_of(at: int, period: Period, filters: Filters, own: int | None) -> str:
    # The exact-percentile limit decides how the kept durations were computed: part of the key.
    limit = tally.EXACT_LIMIT
    what = [at, period.start.isoformat(), period.end.isoformat(), filters.as_query(), own, limit]
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def fetch(
    period: Period, filters: Filters, own: int | None, compute: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The kept figures for this refresh version, or ``compute()``'s, kept for the next page."""
    at = version()
    key = key_of(at, period, filters, own)
    found = FigureCache.objects.filter(key=key).values_list("figures", flat=True).first()
    if found is not None:
        return dict(found)
    figures = compute()
    try:
        # In a savepoint: a page that cannot keep its figures (SQLite busy with a refresh's
        # write) still shows them, and a surrounding transaction (a CSV download's, with its
        # audit entry) goes on.
        with transaction.atomic():
            # A page computing at the same moment may have written the same row: keep one.
            FigureCache.objects.bulk_create(
                [FigureCache(key=key, version=at, figures=figures)], ignore_conflicts=True
            )
            FigureCache.objects.exclude(version=at).delete()
    except DatabaseError:
        logger.warning("metrics: dashboard figures not kept (database busy)")
    return figures
