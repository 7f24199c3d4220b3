"""Background work of outputs: sending a referral package by e-mail (``email_delivery``).

The argument is the delivery's id only (task rows are not encrypted). A failed attempt enqueues
the next one itself, at the backoff time, in the same transaction that records the failure.
"""

from __future__ import annotations

import uuid

from django.tasks import task

from tipline.outputs.email_delivery import email_delivery_attempt


@task(queue_name="default")
def send_referral_email(delivery_id: str) -> str:
    return email_delivery_attempt(uuid.UUID(delivery_id)).state
