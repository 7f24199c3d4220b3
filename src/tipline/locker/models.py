"""The evidence locker's tables. Nothing the victim wrote or imported is in a readable column.

Each locker has one random data key, stored only sealed under the passphrase's unlock key and
wrapped by the server KEK (see ``tipline.crypto.passphrase``). Everything else is sealed under
that data key with a context naming the locker and record, so a blob cannot be moved to another
locker or field. Imported items are one sealed JSON blob per evidence file in the evidence
store (a 100,000-message chat is one object, not 100,000 rows).

Plain columns hold only keyed digests, foreign keys and timestamps.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from tipline.throttle import MinuteThrottle


class Locker(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Keyed digest of the passphrase's Argon2 lookup half: the only way to find a locker.
    lookup_digest = models.CharField(max_length=64, unique=True)
    # The data key sealed under the passphrase's unlock key, then wrapped by the KEK.
    wrapped_key = models.BinaryField()
    # Sealed JSON: {"title": neutral page title, "responsible": [identifiers]}.
    settings = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    # Sealed JSON list of the hand-overs made from this locker: receipt, time, file count. One
    # column updated in place rather than a row per hand-over, so that neither a row's id nor
    # its time can be lined up with the audit entry of the report it created.
    handovers = models.BinaryField(null=True, default=None)

    def __str__(self) -> str:
        return f"locker {self.id}"


class LockerSession(models.Model):
    """An opened locker: a 128-bit token held only by the browser page, in a hidden field."""

    digest = models.CharField(max_length=64, unique=True)
    locker = models.ForeignKey(Locker, on_delete=models.CASCADE, related_name="sessions")
    # The locker's data key sealed under a key derived from the token (and the locker key file).
    sealed_key = models.BinaryField()
    last_seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"locker session {self.pk}"  # never the token or its digest


class LockerHandoff(models.Model):
    """A one-use, one-minute ticket from the passphrase POST to the page that continues it.

    Opening answers with a redirect (so no history entry keeps the passphrase), and the page it
    redirects to learns the new session's token from this ticket, which is then deleted.
    """

    digest = models.CharField(max_length=64, unique=True)
    locker = models.ForeignKey(Locker, on_delete=models.CASCADE, related_name="handoffs")
    # The session token sealed under a key derived from the ticket (and the locker key file).
    sealed_token = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"locker hand-off {self.pk}"  # never the ticket or its digest


class EvidenceFile(models.Model):
    locker = models.ForeignKey(Locker, on_delete=models.CASCADE, related_name="files")
    # Keyed by the locker's data key: the same bytes imported twice into one locker are found,
    # and equal files in two lockers have unrelated digests.
    idempotency_digest = models.CharField(max_length=64)
    # Evidence-store object names: the sealed original bytes and the sealed parsed items.
    object_id = models.CharField(max_length=80)
    items_object_id = models.CharField(max_length=80)
    # Sealed JSON: filename, format, sha256, size, imported_at, item_count, warnings.
    meta = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["locker", "idempotency_digest"], name="locker_file_once"
            )
        ]

    def __str__(self) -> str:
        return f"locker file {self.pk}"


class Incident(models.Model):
    locker = models.ForeignKey(Locker, on_delete=models.CASCADE, related_name="incidents")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"incident {self.pk}"


class IncidentVersion(models.Model):
    """One version of an incident. Edits add a row; rows are never updated or deleted."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()  # 1 for the original text, then 2, 3, ...
    # Sealed JSON of types.IncidentVersion's fields.
    content = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "number"], name="incident_version_once")
        ]

    def __str__(self) -> str:
        return f"incident {self.incident_id} version {self.number}"


class OpenThrottle(MinuteThrottle):
    """Failed locker opens per minute for the whole site (no per-client state exists).

    Each attempt costs an Argon2 derivation (64 MiB), so the limit also bounds that cost.
    """
