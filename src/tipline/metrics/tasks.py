"""The rollup refresh: a self-re-enqueuing chain, every TIPLINE_METRICS_REFRESH_SECONDS (60).

It reads past its cursors (``rollup.refresh``), so intake and casework never wait for metrics
and nothing below this package imports it. ``tipline serve`` starts the chain.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from tipline.metrics import rollup, trends
from tipline.periodic import enqueue_once

log = logging.getLogger(__name__)


def _interval() -> timedelta:
    return timedelta(seconds=max(5, int(settings.TIPLINE_METRICS_REFRESH_SECONDS)))


@task()
def metrics_refresh() -> dict[str, int]:
    _enqueue(run_after=timezone.now() + _interval(), unless={TaskResultStatus.READY})
    summary = rollup.refresh()
    log.info("metrics refresh: %s entries, %s reports", summary.entries, summary.reports)
    return {"entries": summary.entries, "reports": summary.reports, "days": summary.days}


TREND_INTERVAL = timedelta(hours=1)


@task()
def trend_scan() -> int:
    """Hourly: compare the last day and week with the baseline (tipline.metrics.trends)."""
    enqueue_once(
        trend_scan,
        run_after=timezone.now() + TREND_INTERVAL,
        unless={TaskResultStatus.READY},
    )
    return len(trends.scan())


def ensure_metrics_scheduled() -> bool:
    enqueue_once(
        trend_scan, run_after=None, unless={TaskResultStatus.READY, TaskResultStatus.RUNNING}
    )
    return _enqueue(run_after=None, unless={TaskResultStatus.READY, TaskResultStatus.RUNNING})


def _enqueue(*, run_after: datetime | None, unless: set[TaskResultStatus]) -> bool:
    return enqueue_once(metrics_refresh, run_after=run_after, unless=unless)
