"""Where takedown rows come from: the one selector the lead wires to ``tipline.takedown``.

``tipline.takedown`` (built in parallel) tracks each notified URL in a ``TrackedUrl`` with
``notice_sent_at``, ``removed_at``, ``hosting_country`` and ``provider``. Until it is merged this
returns no rows, and every takedown figure reads "no notices in this period". After the merge
replace the body with::

    from tipline.takedown.models import TrackedUrl
    qs = TrackedUrl.objects.filter(notice_sent_at__gte=start, notice_sent_at__lt=end,
                                   notice_sent_at__isnull=False)
    return [TakedownRow(r.notice_sent_at, r.removed_at, r.hosting_country, r.provider)
            for r in qs.only(...)]

(``tipline.takedown`` must then sit in a layer below ``tipline.metrics``.)
"""

from __future__ import annotations

from datetime import datetime

from tipline.metrics.stats import TakedownRow


def takedown_rows(*, start: datetime, end: datetime) -> list[TakedownRow]:
    """Notices sent in ``[start, end)``, with their removal time if removed."""
    del start, end
    return []
