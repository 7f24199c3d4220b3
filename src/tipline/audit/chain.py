"""Recording and verifying the hash chain."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.db import connection, transaction
from django.utils import timezone

from tipline.audit.models import AuditEntry
from tipline.crypto.box import audit_key

GENESIS = "0" * 64
SYSTEM = "system"


class AuditBroken(Exception):
    """The chain does not verify; ``seq`` names the first entry that is wrong or missing."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"audit entry {seq}: {reason}")
        self.seq = seq
        self.reason = reason


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    head_seq: int
    head_hash: str


def _mac(key: bytes, prev_hash: str, content: bytes) -> str:
    return hmac.new(key, prev_hash.encode() + b"\n" + content, hashlib.sha256).hexdigest()


def _lock_tail() -> None:
    # Two writers must not both extend the same tail. SQLite transactions here are IMMEDIATE
    # (one writer at a time); PostgreSQL takes a transaction-scoped advisory lock.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x7469706C])  # "tipl"


def record(
    *,
    actor: str,
    action: str,
    target_type: str = "",
    target_id: object = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry. Call it inside the transaction that makes the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the change's transaction")
    _lock_tail()
    last = AuditEntry.objects.order_by("-seq").values_list("seq", "entry_hash").first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    created_at = timezone.now()
    entry = AuditEntry(
        seq=seq,
        created_at=created_at,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        details=details or {},
        prev_hash=prev_hash,
    )
    entry.entry_hash = _mac(audit_key(), prev_hash, _content(entry))
    entry.save(force_insert=True)
    return entry


def _content(entry: AuditEntry) -> bytes:
    """Canonical bytes of an entry: a JSON array with sorted keys and no spacing."""
    fields = [
        entry.seq,
        entry.created_at.isoformat(),
        entry.actor,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.details,
    ]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


_VERIFIED_FIELDS = (
    "seq",
    "created_at",
    "actor",
    "action",
    "target_type",
    "target_id",
    "details",
    "prev_hash",
    "entry_hash",
)


def _rows(after_id: int = 0) -> Iterator[Any]:
    # Named tuples, not model instances: building a million AuditEntry objects was a third of
    # verify's time (benchmarks/console.py). ``iterator`` streams through a server-side cursor
    # on PostgreSQL, so memory stays flat however long the log is.
    return (
        AuditEntry.objects.filter(id__gt=after_id)
        .order_by("id")
        .values_list(*_VERIFIED_FIELDS, named=True)
        .iterator(chunk_size=10_000)
    )


def verify(
    progress: Any = None,
    *,
    anchors: Mapping[int, str] | None = None,
    since: tuple[int, str] | None = None,
) -> VerifyResult:
    """Walk the chain in insertion order; raise AuditBroken at the first bad entry.

    Rows are read in primary-key (insertion) order, so a row whose ``seq`` was changed to move it
    elsewhere in the chain, a deleted row (a gap), an inserted row (a repeated or foreign seq or a
    MAC made without the key) and an edited row (a MAC mismatch) are all caught at that row.

    The MAC alone cannot show a missing tail, nor a chain rebuilt by someone holding
    ``audit.key``. ``anchors`` (entry number -> head hash, from signed checkpoints) closes that
    gap up to the newest anchor: the entry at each anchor must carry exactly that hash, and the
    log must reach the highest anchored entry. ``since`` (an anchor already checked) starts the
    walk after that entry instead of at the genesis, once the entry is found with that hash.
    """
    key = audit_key()
    expected = dict(anchors or {})
    expected_seq, prev_hash, after_id = 1, GENESIS, 0
    if since is not None:
        after_id = _anchor_row_id(*since)
        expected_seq, prev_hash = since[0] + 1, since[1]
    if expected.pop(0, GENESIS) != GENESIS:
        raise AuditBroken(0, "a checkpoint of the empty log names a hash other than the genesis")
    count = 0
    for row in _rows(after_id):
        # A row has every attribute _content reads, under the same names as on AuditEntry.
        entry = cast("AuditEntry", row)
        if entry.seq != expected_seq:
            raise AuditBroken(expected_seq, f"expected entry {expected_seq}, found {entry.seq}")
        if entry.prev_hash != prev_hash:
            raise AuditBroken(entry.seq, "does not follow the previous entry")
        if not hmac.compare_digest(entry.entry_hash, _mac(key, prev_hash, _content(entry))):
            raise AuditBroken(entry.seq, "content does not match its hash")
        anchored = expected.get(entry.seq)
        if anchored is not None and not hmac.compare_digest(entry.entry_hash, anchored):
            raise AuditBroken(
                entry.seq,
                f"hash differs from the checkpoint of entry {entry.seq}: the log was rewritten"
                " up to here",
            )
        prev_hash = entry.entry_hash
        expected_seq += 1
        count += 1
        if progress is not None:
            progress(count)
    head_seq = expected_seq - 1
    beyond = [seq for seq in expected if seq > head_seq]
    if beyond:
        raise AuditBroken(
            head_seq + 1,
            f"missing: the log ends at entry {head_seq} but the checkpoint of entry"
            f" {max(beyond)} shows it reached that far (entries were deleted from the end)",
        )
    return VerifyResult(entries=count, head_seq=head_seq, head_hash=prev_hash)


def _anchor_row_id(seq: int, entry_hash: str) -> int:
    """Primary key of the anchored entry, after checking it still carries the anchored hash."""
    if seq == 0:
        if entry_hash != GENESIS:
            raise AuditBroken(0, "a checkpoint of the empty log names a hash but the genesis")
        return 0
    found = AuditEntry.objects.filter(seq=seq).values_list("id", "entry_hash").first()
    if found is None:
        raise AuditBroken(
            seq, f"missing: the checkpoint of entry {seq} is no longer in the log (truncated)"
        )
    if not hmac.compare_digest(found[1], entry_hash):
        raise AuditBroken(seq, f"hash differs from the checkpoint of entry {seq}: rewritten")
    return int(found[0])


def head() -> tuple[int, str]:
    last = AuditEntry.objects.order_by("-seq").values_list("seq", "entry_hash").first()
    return (last[0], last[1]) if last else (0, GENESIS)
