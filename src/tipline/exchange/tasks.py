"""Delivering forwarded reports and outcome updates, with retries (the task worker).

``deliver_forwarding`` runs once per queued forwarding and re-enqueues itself with exponential
backoff while the partner cannot be reached; the forwarding shows "Failed (retrying)" meanwhile.
``send_outcomes`` is a self-re-enqueuing chain (tipline.periodic) that tells partners what
became of the reports they forwarded to us whenever a state or outcome changed.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from tipline.exchange import sending
from tipline.exchange.models import Forwarding, ForwardState
from tipline.outbox.guard import single_flight
from tipline.periodic import enqueue_once

log = logging.getLogger(__name__)


@task()
def deliver_forwarding(forwarding_id: str) -> str:
    with single_flight(f"exchange.forwarding:{forwarding_id}") as mine:
        return _deliver_forwarding(forwarding_id) if mine else "busy"


def _deliver_forwarding(forwarding_id: str) -> str:
    forwarding = (
        Forwarding.objects.select_related("report", "hotline").filter(pk=forwarding_id).first()
    )
    if forwarding is None or forwarding.state in (ForwardState.SENT, ForwardState.REFUSED):
        return "nothing to do"
    try:
        answer = sending.send(forwarding.hotline, sending.report_document(forwarding))
    except sending.SendFailed as exc:
        final = exc.final or forwarding.attempts + 1 >= sending.MAX_ATTEMPTS
        updated = sending.forward_failed(forwarding_id=forwarding.pk, reason=str(exc), final=final)
        if not final:
            run_after = timezone.now() + sending.retry_delay(updated.attempts)
            deliver_forwarding.using(run_after=run_after).enqueue(forwarding_id)
        return "failed"
    sending.forward_delivered(
        forwarding_id=forwarding.pk,
        their_reference=answer.reference,
        linked=answer.status == "linked",
    )
    return answer.status


@task()
def send_outcomes() -> int:
    """Tell partners about changes to the reports they forwarded; then schedule the next run."""
    told = 0
    try:
        for inbound in sending.outcomes_due():
            state, outcome = inbound.report.state, inbound.report.outcome
            try:
                sending.send(inbound.hotline, sending.outcome_document(inbound))
            except sending.SendFailed as exc:
                log.warning("outcome update for %s not delivered: %s", inbound.hotline.name, exc)
                continue
            sending.outcome_told(inbound_id=inbound.pk, state=state, outcome=outcome)
            told += 1
    finally:
        interval = timedelta(seconds=settings.TIPLINE_EXCHANGE_OUTCOME_SECONDS)
        enqueue_once(
            send_outcomes, run_after=timezone.now() + interval, unless={TaskResultStatus.READY}
        )
    return told


def ensure_outcomes_scheduled() -> bool:
    """Start the chain (at start-up) unless a run is already waiting or running."""
    return enqueue_once(
        send_outcomes, run_after=None, unless={TaskResultStatus.READY, TaskResultStatus.RUNNING}
    )
