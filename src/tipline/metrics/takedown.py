"""Where takedown rows come from: ``tipline.takedown``'s tracked URLs (one selector).

Each URL a notice named is a ``TrackedUrl`` with ``notice_sent_at``, ``removed_at`` (None while
it is still up), ``hosting_country`` and ``provider``, all plaintext; the URL itself is not read
here. The statistics over these rows are pure functions (``stats.takedown_summary``,
``stats.kaplan_meier``).
"""

from __future__ import annotations

from datetime import datetime

from tipline.metrics.stats import TakedownRow
from tipline.takedown.models import TrackedUrl


def takedown_rows(*, start: datetime, end: datetime) -> list[TakedownRow]:
    """Notices sent in ``[start, end)``, with their removal time if removed."""
    rows = TrackedUrl.objects.filter(
        notice_sent_at__isnull=False, notice_sent_at__gte=start, notice_sent_at__lt=end
    ).values_list("notice_sent_at", "removed_at", "hosting_country", "provider")
    return [
        TakedownRow(
            sent_at=sent, removed_at=removed, country=country or "", provider=provider or ""
        )
        for sent, removed, country, provider in rows.iterator()
        if sent is not None
    ]
