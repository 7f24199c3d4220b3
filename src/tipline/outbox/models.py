"""One row per enqueued task, kept until the relay has handed it to the broker (and a while
after, so an operator can see what went out)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class OutboxTask(models.Model):
    # Ids and plain values only: task arguments are never content (tasks carry ids), and this
    # table is not encrypted, like the database backend's task rows.
    result_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    task_path = models.CharField(max_length=255)
    queue_name = models.CharField(max_length=64)
    priority = models.SmallIntegerField(default=0)
    run_after = models.DateTimeField(null=True, blank=True)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # The relay's only query: the oldest unsent rows. A partial index stays as small as
            # the backlog, however many sent rows are kept.
            models.Index(fields=["id"], name="outbox_unsent", condition=Q(sent_at__isnull=True)),
            models.Index(fields=["sent_at"], name="outbox_sent_at"),
        ]

    def __str__(self) -> str:
        return f"{self.task_path} #{self.pk}"
