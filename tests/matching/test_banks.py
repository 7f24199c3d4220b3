"""Hash bank actions and the matcher's selectors: idempotent adds, removal, audit, lookups."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tipline.audit.models import AuditEntry
from tipline.matching import banks
from tipline.matching.models import BankEntry, HashBank, HashKind, InvalidHash

pytestmark = pytest.mark.django_db

# PDQ hashes of two benign reference photos (misc-images/c.png and small.jpg).
PDQ_A = "e64cc9d91e623842f8d1f1d9a398e78c9f199a3bd87924f2b7e11e0bf061b064"
PDQ_B = "0007001f003f003f007f00ff00ff00ff01ff01ff01ff03ff03ff03ff03ff03ff"
MD5_A = "9b3f1c1ab1ce2b6f0ef4f3a2b15c6e3d"  # random


def _bank(name: str = "iccam", classification: str = "baseline") -> HashBank:
    return banks.bank_create(actor="tester", name=name, default_classification=classification)


def _rec(kind: str, value: str, **kw: object) -> banks.EntryRecord:
    return banks.make_record(position=1, kind=kind, value=value, **kw)  # type: ignore[arg-type]


def test_bank_create_is_audited_and_refuses_duplicates_and_unknown_classifications() -> None:
    bank = _bank()
    assert AuditEntry.objects.filter(action="hashes.bank_create", target_id=str(bank.pk)).exists()
    with pytest.raises(banks.BankError, match="already exists"):
        _bank()
    with pytest.raises(banks.BankError, match="unknown classification"):
        _bank(name="other", classification="illegal")


def test_adding_twice_is_idempotent_and_changes_update_in_place() -> None:
    bank = _bank()
    first = banks.entries_add(
        actor="tester", bank=bank, records=[_rec("pdq", PDQ_A, quality="90"), _rec("md5", MD5_A)]
    )
    assert (first.added, first.updated, first.skipped) == (2, 0, 0)
    again = banks.entries_add(
        actor="tester", bank=bank, records=[_rec("pdq", PDQ_A, quality="90"), _rec("md5", MD5_A)]
    )
    assert (again.added, again.updated, again.skipped) == (0, 0, 2)
    changed = banks.entries_add(
        actor="tester",
        bank=bank,
        records=[_rec("md5", MD5_A, classification="national", metadata={"case": "7"})],
    )
    assert (changed.added, changed.updated) == (0, 1)
    entry = BankEntry.objects.get(kind="md5")
    assert (entry.classification, entry.metadata) == ("national", {"case": "7"})
    assert BankEntry.objects.count() == 2


def test_a_value_twice_in_one_batch_is_one_entry() -> None:
    bank = _bank()
    counts = banks.entries_add(
        actor="tester",
        bank=bank,
        records=[_rec("md5", MD5_A), _rec("md5", MD5_A.upper(), classification="A1")],
    )
    assert (counts.added, counts.updated) == (1, 1)
    assert BankEntry.objects.get().classification == "A1"


def test_a_batch_mixing_new_known_changed_and_removed_values_counts_each_once() -> None:
    # New values take the insert-only path; a batch where some exist falls back to comparing.
    bank = _bank()
    known = [f"{n:032x}" for n in range(1, 5)]
    banks.entries_add(actor="tester", bank=bank, records=[_rec("md5", v) for v in known])
    banks.entry_remove(actor="tester", bank_name="iccam", value=known[3])
    cursor = max(c.seq for c in banks.changes_since(bank=bank, cursor=0, limit=100))
    counts = banks.entries_add(
        actor="tester",
        bank=bank,
        records=[
            _rec("md5", known[0]),  # identical: skipped
            _rec("md5", known[1], classification="national"),  # changed: updated
            _rec("md5", known[3]),  # removed: re-activated (updated)
            _rec("md5", "f" * 32),  # new
            _rec("pdq", PDQ_A),  # new
        ],
        source_format="csv",
    )
    assert (counts.added, counts.updated, counts.skipped) == (2, 2, 1)
    assert AuditEntry.objects.filter(action="hashes.import").last().details == {
        "format": "csv", "added": 2, "updated": 2, "skipped": 1,
    }  # fmt: skip
    later = banks.changes_since(bank=bank, cursor=cursor, limit=100)
    assert sorted(c.value for c in later) == sorted([known[1], known[3], "f" * 32, PDQ_A])
    assert [c.seq for c in later] == sorted({c.seq for c in later})
    assert BankEntry.objects.count() == 6
    assert BankEntry.objects.filter(removed_at__isnull=False).count() == 0


def test_import_audit_entries_hold_counts_not_hashes() -> None:
    bank = _bank()
    banks.entries_add(actor="tester", bank=bank, records=[_rec("pdq", PDQ_A)], source_format="csv")
    audit = AuditEntry.objects.get(action="hashes.import")
    assert audit.actor == "tester"
    assert audit.details == {"format": "csv", "added": 1, "updated": 0, "skipped": 0}
    assert PDQ_A not in json.dumps(audit.details)


def test_remove_then_readd_reactivates_the_same_row() -> None:
    bank = _bank()
    banks.entries_add(actor="tester", bank=bank, records=[_rec("md5", MD5_A)])
    entry = BankEntry.objects.get()
    banks.entry_remove(actor="tester", bank_name="iccam", value=MD5_A.upper())
    entry.refresh_from_db()
    assert entry.removed_at is not None
    assert banks.exact_lookup("md5", MD5_A) == []
    assert AuditEntry.objects.filter(action="hashes.remove").count() == 1
    with pytest.raises(banks.BankError, match="no active entry"):
        banks.entry_remove(actor="tester", bank_name="iccam", value=MD5_A)
    counts = banks.entries_add(actor="tester", bank=bank, records=[_rec("md5", MD5_A)])
    assert counts.updated == 1
    entry.refresh_from_db()
    assert entry.removed_at is None
    assert BankEntry.objects.count() == 1


def test_remove_asks_for_the_kind_when_pdq_and_sha256_share_a_value() -> None:
    bank = _bank()
    banks.entries_add(actor="t", bank=bank, records=[_rec("pdq", PDQ_A), _rec("sha256", PDQ_A)])
    with pytest.raises(banks.BankError, match="give --kind"):
        banks.entry_remove(actor="t", bank_name="iccam", value=PDQ_A)
    removed = banks.entry_remove(actor="t", bank_name="iccam", value=PDQ_A, kind="sha256")
    assert removed.kind == "sha256"


def test_remove_from_a_missing_bank_or_with_a_malformed_value_is_refused() -> None:
    _bank()
    with pytest.raises(banks.BankNotFound):
        banks.entry_remove(actor="t", bank_name="nope", value=MD5_A)
    with pytest.raises(banks.BankError, match="not a hash value"):
        banks.entry_remove(actor="t", bank_name="iccam", value="xyz")


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("pdq", PDQ_A[:-1], "63 hex digits, expected 64"),
        ("md5", "g" * 32, "not hexadecimal"),
        ("sha1", MD5_A, "32 hex digits, expected 40"),
        ("crc32", "deadbeef", "unknown hash kind"),
        ("md5", "   ", "empty"),
    ],
)
def test_make_record_refuses_malformed_values(kind: str, value: str, reason: str) -> None:
    with pytest.raises(InvalidHash, match=reason):
        _rec(kind, value)


def test_make_record_refuses_bad_quality_classification_and_large_metadata() -> None:
    with pytest.raises(InvalidHash, match="between 0 and 100"):
        _rec("pdq", PDQ_A, quality="101")
    with pytest.raises(InvalidHash, match="PDQ hashes only"):
        _rec("md5", MD5_A, quality="50")
    with pytest.raises(InvalidHash, match="unknown classification"):
        _rec("md5", MD5_A, classification="C3")
    with pytest.raises(InvalidHash, match="metadata larger"):
        _rec("md5", MD5_A, metadata={"x": "y" * 2000})


def test_the_database_refuses_a_value_of_the_wrong_length_for_its_kind() -> None:
    bank = _bank()
    with pytest.raises(IntegrityError), transaction.atomic():
        BankEntry.objects.create(bank=bank, kind=HashKind.MD5, value=PDQ_A)


def test_active_pdq_yields_raw_bytes_of_active_pdq_entries_only() -> None:
    bank = _bank()
    banks.entries_add(
        actor="t", bank=bank, records=[_rec("pdq", PDQ_A), _rec("pdq", PDQ_B), _rec("md5", MD5_A)]
    )
    banks.entry_remove(actor="t", bank_name="iccam", value=PDQ_B, kind="pdq")
    pairs = list(banks.active_pdq())
    assert [raw for _, raw in pairs] == [bytes.fromhex(PDQ_A)]
    assert all(len(raw) == 32 for _, raw in pairs)


def test_exact_lookup_finds_active_entries_across_banks_with_their_bank() -> None:
    one, two = _bank("one"), _bank("two", classification="national")
    banks.entries_add(actor="t", bank=one, records=[_rec("md5", MD5_A)])
    banks.entries_add(actor="t", bank=two, records=[_rec("md5", MD5_A, classification="A1")])
    found = banks.exact_lookup("MD5", MD5_A.upper())
    assert [(e.bank.name, e.effective_classification) for e in found] == [
        ("one", "baseline"),
        ("two", "A1"),
    ]
    assert banks.exact_lookup("md5", "not-hex") == []
    assert banks.exact_lookup("sha1", MD5_A) == []


def test_entries_changed_since_reports_added_and_removed_pdq() -> None:
    bank = _bank()
    banks.entries_add(actor="t", bank=bank, records=[_rec("pdq", PDQ_A)])
    since = timezone.now()
    banks.entries_add(actor="t", bank=bank, records=[_rec("pdq", PDQ_B), _rec("md5", MD5_A)])
    banks.entry_remove(actor="t", bank_name="iccam", value=PDQ_A, kind="pdq")
    changes = banks.entries_changed_since(since)
    assert [raw for _, raw in changes.added] == [bytes.fromhex(PDQ_B)]
    assert [raw for _, raw in changes.removed] == [bytes.fromhex(PDQ_A)]
    assert changes.as_of >= since
    later = banks.entries_changed_since(changes.as_of + dt.timedelta(seconds=1))
    assert (later.added, later.removed) == ([], [])


def test_stats_count_by_kind_and_effective_classification() -> None:
    bank = _bank()
    banks.entries_add(
        actor="t",
        bank=bank,
        records=[_rec("md5", MD5_A), _rec("pdq", PDQ_A), _rec("pdq", PDQ_B, classification="A1")],
    )
    banks.entry_remove(actor="t", bank_name="iccam", value=PDQ_A, kind="pdq")
    rows = {(r.kind, r.classification): (r.active, r.removed) for r in banks.bank_stats()}
    assert rows == {("md5", "baseline"): (1, 0), ("pdq", "A1"): (1, 0), ("pdq", "baseline"): (0, 1)}
    with pytest.raises(banks.BankNotFound):
        banks.bank_stats(bank_name="missing")
