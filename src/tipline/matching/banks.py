"""Hash bank actions (writes, audited) and selectors (reads, including the matcher's).

Every write runs in a transaction that also writes its audit entry. Imports are written in
batches, one transaction (and one audit entry, counts only) per batch: a single transaction over
a 1 GB list would hold SQLite's one write lock for minutes and make report submissions wait;
batches keep each lock short, and since re-importing is idempotent an interrupted import is
finished by running it again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, Max, Q, TextField, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from tipline.audit.chain import record
from tipline.matching.models import (
    CLASSIFICATIONS,
    BankEntry,
    HashBank,
    HashKind,
    InvalidHash,
    normalise_hash,
)

METADATA_MAX_BYTES = 1024
BATCH_SIZE = 5000


class BankError(Exception):
    """A bank action refused; the message is fit for an operator."""


class BankNotFound(BankError):
    pass


@dataclass(frozen=True)
class EntryRecord:
    """One validated hash, as an importer read it. ``position`` is its line (or item) number."""

    position: int
    kind: HashKind
    value: str
    classification: str = ""
    quality: int | None = None
    metadata: dict[str, object] = field(default_factory=dict)


def make_record(
    *,
    position: int,
    kind: str,
    value: str,
    classification: str = "",
    quality: str | int | None = None,
    metadata: dict[str, object] | None = None,
) -> EntryRecord:
    """Validate one hash from an import; raise InvalidHash with the reason if it cannot be kept."""
    hash_kind, hex_value = normalise_hash(kind, value)
    classification = classification.strip()
    if classification and classification not in CLASSIFICATIONS:
        raise InvalidHash(
            f"unknown classification {classification[:20]!r} "
            f"(expected one of {', '.join(CLASSIFICATIONS)})"
        )
    parsed_quality: int | None = None
    if quality is not None and str(quality).strip() != "":
        try:
            parsed_quality = int(str(quality).strip())
        except ValueError:
            raise InvalidHash("quality is not a whole number") from None
        if not 0 <= parsed_quality <= 100:
            raise InvalidHash("quality must be between 0 and 100")
        if hash_kind != HashKind.PDQ:
            raise InvalidHash("quality applies to PDQ hashes only")
    metadata = metadata or {}
    if metadata and len(json.dumps(metadata, ensure_ascii=False).encode()) > METADATA_MAX_BYTES:
        raise InvalidHash(f"metadata larger than {METADATA_MAX_BYTES} bytes")
    return EntryRecord(
        position=position,
        kind=hash_kind,
        value=hex_value,
        classification=classification,
        quality=parsed_quality,
        metadata=metadata,
    )


@dataclass
class WriteCounts:
    added: int = 0
    updated: int = 0
    skipped: int = 0


# --- actions -------------------------------------------------------------------------------------


def bank_create(
    *,
    actor: str,
    name: str,
    default_classification: str,
    source: str = "",
    licence_note: str = "",
) -> HashBank:
    name = name.strip()
    if not name or len(name) > 100:
        raise BankError("a bank name is 1 to 100 characters")
    if default_classification not in CLASSIFICATIONS:
        raise BankError(
            f"unknown classification {default_classification!r} "
            f"(expected one of {', '.join(CLASSIFICATIONS)})"
        )
    with transaction.atomic():
        if HashBank.objects.filter(name=name).exists():
            raise BankError(f"a hash bank named {name!r} already exists")
        bank = HashBank.objects.create(
            name=name,
            source=source.strip()[:200],
            licence_note=licence_note.strip(),
            default_classification=default_classification,
        )
        record(
            actor=actor,
            action="hashes.bank_create",
            target_type="hash_bank",
            target_id=bank.pk,
            details={"default_classification": default_classification},
        )
    return bank


def entries_add(
    *, actor: str, bank: HashBank, records: Iterable[EntryRecord], source_format: str = ""
) -> WriteCounts:
    """Add or refresh one batch of entries in one transaction with one audit entry.

    A value already in the bank is updated (classification, quality, metadata) and re-activated
    if it had been removed; an identical active one is counted as skipped.
    """
    now = timezone.now()
    counts = WriteCounts()
    with transaction.atomic():
        batch = list(records)
        if not batch:
            return counts
        # Fast path: most batches hold only new values (a first import, a mirror catching up).
        # Insert them all, letting the unique index skip what exists, instead of first looking
        # every value up; only if some were skipped is the batch compared row by row below.
        inserted = _insert_new(bank, batch, now)
        if inserted == len(batch):
            counts.added = inserted
            _recorded(actor, bank, source_format, counts)
            return counts
        _compare_and_write(bank, batch, now, inserted, counts)
        _recorded(actor, bank, source_format, counts)
    return counts


def entries_add_values(
    *,
    actor: str,
    bank: HashBank,
    kind: HashKind,
    classification: str,
    values: list[str],
    source_format: str = "",
) -> WriteCounts:
    """``entries_add`` for one batch of values of one kind and classification, no quality or
    metadata (what a large shared list mostly is): the same writes, counts and audit entry.

    The values must already be valid lowercase hex of ``kind``'s length (the hash-list pull
    checks a whole page at once). No ``EntryRecord`` is built unless some values already exist,
    which at a million values is most of the Python work left in a pull.
    """
    now = timezone.now()
    counts = WriteCounts()
    if not values:
        return counts
    with transaction.atomic():
        rows: list[_Row] = [(kind.value, v, classification, None, "{}") for v in values]
        inserted = _insert_rows(bank, rows, now)
        if inserted < len(values):
            batch = [
                EntryRecord(position=n, kind=kind, value=v, classification=classification)
                for n, v in enumerate(values)
            ]
            _compare_and_write(bank, batch, now, inserted, counts)
        else:
            counts.added = inserted
        _recorded(actor, bank, source_format, counts)
    return counts


def _compare_and_write(
    bank: HashBank, batch: list[EntryRecord], now: dt.datetime, inserted: int, counts: WriteCounts
) -> None:
    """The slow path of a batch some of whose values already existed: compare row by row,
    update or re-activate what changed, insert what is new. ``inserted`` rows were written by
    the fast path just before (they are found again here as identical)."""
    seen: dict[tuple[str, str], BankEntry] = {}
    for kind in {r.kind for r in batch}:
        values = {r.value for r in batch if r.kind == kind}
        for entry in BankEntry.objects.filter(bank=bank, kind=kind, value__in=values):
            seen[(entry.kind, entry.value)] = entry
    creates: dict[tuple[str, str], BankEntry] = {}
    updates: dict[int, BankEntry] = {}
    for rec in batch:
        key = (rec.kind.value, rec.value)
        existing = seen.get(key)
        if existing is None:
            seen[key] = creates[key] = BankEntry(
                bank=bank,
                kind=rec.kind.value,
                value=rec.value,
                classification=rec.classification,
                quality=rec.quality,
                metadata=rec.metadata,
                added_at=now,
            )
            counts.added += 1
            continue
        entry = existing
        unchanged = (
            entry.removed_at is None
            and entry.classification == rec.classification
            and entry.quality == rec.quality
            and entry.metadata == rec.metadata
        )
        if unchanged:
            counts.skipped += 1
            continue
        if entry.removed_at is not None:
            entry.removed_at = None
            entry.added_at = now
        entry.classification = rec.classification
        entry.quality = rec.quality
        entry.metadata = rec.metadata
        if entry.pk is not None:
            updates[entry.pk] = entry
        counts.updated += 1
    changed = [*creates.values(), *updates.values()]
    for entry, seq in zip(changed, next_change_seqs(bank, len(changed)), strict=True):
        entry.change_seq = seq
    _insert(list(creates.values()))
    BankEntry.objects.bulk_update(
        updates.values(),
        ["classification", "quality", "metadata", "removed_at", "added_at", "change_seq"],
        batch_size=1000,
    )
    # The rows the fast path inserted were found again above as identical ("skipped").
    counts.added += inserted
    counts.skipped -= inserted


def _recorded(actor: str, bank: HashBank, source_format: str, counts: WriteCounts) -> None:
    record(
        actor=actor,
        action="hashes.import",
        target_type="hash_bank",
        target_id=bank.pk,
        details={
            "format": source_format,
            "added": counts.added,
            "updated": counts.updated,
            "skipped": counts.skipped,
        },
    )


def entry_remove(*, actor: str, bank_name: str, value: str, kind: str | None = None) -> BankEntry:
    """Mark one active entry removed. A 64-digit value is PDQ or SHA-256; say which if both."""
    text = value.strip().lower()
    if kind:
        kinds = [normalise_hash(kind, text)[0]]
    else:
        kinds = [k for k in HashKind if _fits(k, text)]
        if not kinds:
            raise BankError("not a hash value: expected 32, 40 or 64 hexadecimal digits")
    with transaction.atomic():
        bank = bank_get(name=bank_name)
        matches = list(
            BankEntry.objects.select_for_update().filter(
                bank=bank, kind__in=kinds, value=text, removed_at=None
            )
        )
        if not matches:
            raise BankError(f"no active entry with that value in {bank.name!r}")
        if len(matches) > 1:
            raise BankError("the value is both a PDQ and a SHA-256 entry; give --kind")
        entry = matches[0]
        entry.removed_at = timezone.now()
        entry.change_seq = next_change_seqs(bank, 1)[0]
        entry.save(update_fields=["removed_at", "change_seq"])
        record(
            actor=actor,
            action="hashes.remove",
            target_type="hash_bank",
            target_id=bank.pk,
            details={"removed": 1, "kind": entry.kind},
        )
    return entry


def entries_remove(
    *, actor: str, bank: HashBank, keys: Iterable[tuple[str, str]], source: str = ""
) -> int:
    """Mark a batch of (kind, value) entries removed, in one transaction with one audit entry.

    Values not in the bank or already removed are skipped, so a repeated batch changes nothing
    (the hash-list pull relies on this). Returns how many entries were removed.
    """
    wanted = {(k, v) for k, v in keys}
    if not wanted:
        return 0
    now = timezone.now()
    with transaction.atomic():
        found: list[BankEntry] = []
        for kind in {k for k, _v in wanted}:
            values = [v for k, v in wanted if k == kind]
            for start in range(0, len(values), 1000):
                found += BankEntry.objects.filter(
                    bank=bank, kind=kind, value__in=values[start : start + 1000], removed_at=None
                ).only("id", "kind", "value")
        if not found:
            return 0
        for entry, seq in zip(found, next_change_seqs(bank, len(found)), strict=True):
            entry.removed_at = now
            entry.change_seq = seq
        BankEntry.objects.bulk_update(found, ["removed_at", "change_seq"], batch_size=1000)
        record(
            actor=actor,
            action="hashes.remove",
            target_type="hash_bank",
            target_id=bank.pk,
            details={"removed": len(found), "source": source[:100]},
        )
    return len(found)


_COLUMNS = (
    "bank_id", "kind", "value", "classification", "quality", "metadata", "added_at", "change_seq",
)  # fmt: skip


def _insert(entries: list[BankEntry]) -> None:
    """INSERT new entries with one prepared statement.

    ``bulk_create`` spends most of an import compiling SQL for each row (about 1 ms a row on a
    busy machine, so 1 s per 1,000); the rows here are plain values already validated by
    ``make_record``, so they go through ``executemany`` with the backend's own adapters.
    """
    if not entries:
        return
    ops = connection.ops
    jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
    marks = ", ".join(["%s"] * 5 + [f"%s{jsonb}", "%s", "%s"])
    names = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
    table = connection.ops.quote_name(BankEntry._meta.db_table)
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - fixed identifiers
    rows = [
        (
            e.bank_id,
            e.kind,
            e.value,
            e.classification,
            e.quality,
            json.dumps(e.metadata),
            ops.adapt_datetimefield_value(e.added_at),
            e.change_seq,
        )
        for e in entries
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert_new(bank: HashBank, batch: list[EntryRecord], now: dt.datetime) -> int:
    """INSERT every record, skipping (bank, kind, value) already there; returns how many rows
    were inserted. Each gets a change position; those of skipped rows stay unused (a gap in the
    feed, which readers never depend on). Call inside the writing transaction."""
    empty = json.dumps({})
    rows: list[_Row] = [
        (
            r.kind.value,
            r.value,
            r.classification,
            r.quality,
            json.dumps(r.metadata) if r.metadata else empty,
        )
        for r in batch
    ]
    return _insert_rows(bank, rows, now)


# (kind, value, classification, quality, metadata as JSON text): one row for ``_insert_rows``.
_Row = tuple[str, str, str, int | None, str]


def _insert_rows(bank: HashBank, rows: list[_Row], now: dt.datetime) -> int:
    """``_insert_new`` from plain (kind, value, classification, quality, metadata JSON) tuples."""
    seqs = next_change_seqs(bank, len(rows))
    jsonb = "::jsonb" if connection.vendor == "postgresql" else ""
    marks = ", ".join(["%s"] * 5 + [f"%s{jsonb}", "%s", "%s"])
    names = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
    conflict = ", ".join(connection.ops.quote_name(c) for c in ("bank_id", "kind", "value"))
    table = connection.ops.quote_name(BankEntry._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({names}) VALUES ({marks}) "  # noqa: S608 - fixed identifiers
        f"ON CONFLICT ({conflict}) DO NOTHING"
    )
    added_at = connection.ops.adapt_datetimefield_value(now)
    bank_id = bank.pk
    params = [
        (bank_id, kind, value, cls, quality, meta, added_at, seq)
        for (kind, value, cls, quality, meta), seq in zip(rows, seqs, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return int(cursor.rowcount)


# Key of the transaction-scoped advisory lock that orders a bank's changes (PostgreSQL).
_CHANGES_LOCK = 0x74706263  # "tpbc"


def next_change_seqs(bank: HashBank, count: int) -> list[int]:
    """``count`` new positions in ``bank``'s changes feed. Call inside the writing transaction.

    Why a lock and not a sequence: PostgreSQL hands out sequence values at INSERT time but rows
    become visible at COMMIT, in any order. A reader could then return seq 12 (committed) while
    11 is still in flight, move its cursor past 11 and never see it. Here each writer holds a
    per-bank lock from choosing its positions until it commits, so positions become visible in
    order and a cursor never skips one. On SQLite every write transaction is already exclusive
    (tipline.db opens them IMMEDIATE). Imports write in batches of thousands, so one lock per
    batch costs little.
    """
    if count <= 0:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_change_seqs must run inside the writing transaction")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CHANGES_LOCK, bank.pk])
    top = BankEntry.objects.filter(bank=bank).aggregate(top=Max("change_seq"))["top"] or 0
    return list(range(top + 1, top + 1 + count))


def export_recorded(*, actor: str, bank: HashBank, export_format: str, entries: int) -> None:
    """Audit an export: a licensed list leaving the system is worth a line in the log."""
    with transaction.atomic():
        record(
            actor=actor,
            action="hashes.export",
            target_type="hash_bank",
            target_id=bank.pk,
            details={"format": export_format, "entries": entries},
        )


def _fits(kind: HashKind, text: str) -> bool:
    try:
        normalise_hash(kind, text)
    except InvalidHash:
        return False
    return True


# --- selectors -----------------------------------------------------------------------------------


def bank_get(*, name: str) -> HashBank:
    bank = HashBank.objects.filter(name=name).first()
    if bank is None:
        raise BankNotFound(f"no hash bank named {name!r}")
    return bank


def bank_entries(*, bank: HashBank) -> Iterator[BankEntry]:
    """The bank's active entries in insertion order, streamed."""
    return (
        BankEntry.objects.filter(bank=bank, removed_at=None)
        .order_by("id")
        .iterator(chunk_size=5000)
    )


@dataclass(frozen=True)
class StatsRow:
    bank: str
    kind: str
    classification: str  # effective: the bank's default when the entry has none
    active: int
    removed: int


def bank_stats(*, bank_name: str | None = None) -> list[StatsRow]:
    entries = BankEntry.objects.all()
    if bank_name is not None:
        entries = entries.filter(bank=bank_get(name=bank_name))
    rows = (
        entries.annotate(
            effective=Coalesce(NullIf("classification", Value("")), "bank__default_classification")
        )
        .values("bank__name", "kind", "effective")
        .annotate(
            active=Count("id", filter=Q(removed_at=None)),
            removed=Count("id", filter=Q(removed_at__isnull=False)),
        )
        .order_by("bank__name", "kind", "effective")
    )
    return [
        StatsRow(r["bank__name"], r["kind"], r["effective"], r["active"], r["removed"])
        for r in rows
    ]


def active_pdq() -> Iterator[tuple[int, bytes]]:
    """Every active PDQ entry as (entry id, 32 raw bytes), streamed, for building the index."""
    rows = (
        BankEntry.objects.filter(kind=HashKind.PDQ, removed_at=None)
        .order_by("id")
        .values_list("id", "value")
        .iterator(chunk_size=10_000)
    )
    for entry_id, value in rows:
        yield entry_id, bytes.fromhex(value)


def exact_lookup(kind: str, value: str) -> list[BankEntry]:
    """Active entries (with their bank) holding exactly this hash; [] for a malformed value."""
    try:
        hash_kind, hex_value = normalise_hash(kind, value)
    except InvalidHash:
        return []
    return list(
        BankEntry.objects.filter(kind=hash_kind, value=hex_value, removed_at=None)
        .select_related("bank")
        .order_by("id")
    )


@dataclass(frozen=True)
class BankChange:
    seq: int
    removed: bool
    kind: str
    value: str
    classification: str
    quality: int | None
    metadata: dict[str, object]


def changes_since(*, bank: HashBank, cursor: int, limit: int) -> list[BankChange]:
    """The bank's entries changed after position ``cursor``, oldest first, at most ``limit``.

    Each entry appears once, with its state now (added or removed): a mirror that applies them
    in order, as idempotent upserts and removals, ends equal to the bank.
    """
    # Metadata is read as text and decoded only when not empty: almost every entry of a large
    # list has none, and decoding 50,000 "{}" through the JSON field was most of a page's time.
    rows = (
        BankEntry.objects.filter(bank=bank, change_seq__gt=cursor)
        .order_by("change_seq")
        .annotate(metadata_text=Cast("metadata", TextField()))
        .values_list(
            "change_seq", "removed_at", "kind", "value", "classification", "quality",
            "metadata_text",
        )[:limit]
    )  # fmt: skip
    return [
        BankChange(
            seq,
            removed is not None,
            kind,
            value,
            cls,
            quality,
            json.loads(text) if text and text not in _EMPTY_JSON else {},
        )
        for seq, removed, kind, value, cls, quality, text in rows
    ]


_EMPTY_JSON = frozenset(("{}", "null", '""'))


@dataclass(frozen=True)
class PdqChanges:
    """PDQ entries (re)activated and removed at or after ``since``; ``as_of`` is the next since.

    An entry written by a transaction that commits after this call but stamped before ``as_of``
    is missed; callers should pass ``as_of`` minus a margin (a minute) and treat adds and removes
    as idempotent.
    """

    as_of: dt.datetime
    added: list[tuple[int, bytes]]
    removed: list[tuple[int, bytes]]


def entries_changed_since(ts: dt.datetime) -> PdqChanges:
    as_of = timezone.now()
    pdq = BankEntry.objects.filter(kind=HashKind.PDQ).order_by("id")
    added = pdq.filter(added_at__gte=ts, removed_at=None).values_list("id", "value")
    removed = pdq.filter(removed_at__gte=ts).values_list("id", "value")
    return PdqChanges(
        as_of=as_of,
        added=[(i, bytes.fromhex(v)) for i, v in added],
        removed=[(i, bytes.fromhex(v)) for i, v in removed],
    )
