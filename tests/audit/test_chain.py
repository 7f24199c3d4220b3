"""The audit chain: records in the caller's transaction; verify catches every kind of tampering."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from tests.audit.tampering import entries as _entries
from tests.audit.tampering import raw as _raw
from tipline.audit.chain import GENESIS, AuditBroken, head, record, verify
from tipline.audit.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_intact_chain_verifies_and_links() -> None:
    _entries(5)
    result = verify()
    assert (result.entries, result.head_seq) == (5, 5)
    first, second = AuditEntry.objects.order_by("seq")[:2]
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.entry_hash
    assert head() == (5, result.head_hash)


def test_an_empty_log_verifies() -> None:
    assert verify().entries == 0


def test_record_refuses_to_run_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError, match="inside the change's transaction"):
        record(actor="a", action="x")


def test_a_rolled_back_change_leaves_no_entry() -> None:
    def change_that_fails() -> None:
        with transaction.atomic():
            record(actor="a", action="report.classify")
            raise ZeroDivisionError  # the change fails after its audit entry was written

    with pytest.raises(ZeroDivisionError):
        change_that_fails()
    assert AuditEntry.objects.count() == 0


def test_an_edited_row_is_named() -> None:
    _entries(5)
    _raw("UPDATE audit_auditentry SET actor = %s WHERE seq = %s", ["someone_else", 3])
    with pytest.raises(AuditBroken) as broken:
        verify()
    assert broken.value.seq == 3


def test_edited_details_are_caught() -> None:
    _entries(5)
    _raw("UPDATE audit_auditentry SET details = %s WHERE seq = %s", ['{"field": "contact"}', 2])
    with pytest.raises(AuditBroken) as broken:
        verify()
    assert broken.value.seq == 2


def test_a_deleted_row_is_named() -> None:
    _entries(5)
    _raw("DELETE FROM audit_auditentry WHERE seq = %s", [3])
    with pytest.raises(AuditBroken) as broken:
        verify()
    assert broken.value.seq == 3


def test_an_inserted_row_is_caught() -> None:
    _entries(3)
    last = AuditEntry.objects.order_by("-seq").first()
    assert last is not None
    # A forged entry appended with a plain SHA-256 instead of the keyed MAC.
    import hashlib

    _raw(
        "INSERT INTO audit_auditentry (seq, created_at, actor, action, target_type, target_id,"
        " details, prev_hash, entry_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            4,
            last.created_at,
            "intruder",
            "report.view",
            "report",
            "9",
            "{}",
            last.entry_hash,
            hashlib.sha256(b"forged").hexdigest(),
        ],
    )
    with pytest.raises(AuditBroken) as broken:
        verify()
    assert broken.value.seq == 4


def test_reordered_rows_are_caught() -> None:
    _entries(4)
    _raw("UPDATE audit_auditentry SET seq = -1 WHERE seq = 2", [])
    _raw("UPDATE audit_auditentry SET seq = 2 WHERE seq = 3", [])
    _raw("UPDATE audit_auditentry SET seq = 3 WHERE seq = -1", [])
    with pytest.raises(AuditBroken) as broken:
        verify()
    assert broken.value.seq == 2


def test_command_exits_zero_when_intact_and_names_the_broken_entry() -> None:
    _entries(3)
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact: 3 entries" in out.getvalue()
    _raw("UPDATE audit_auditentry SET action = %s WHERE seq = %s", ["report.export", 2])
    with pytest.raises(CommandError, match="BROKEN at entry 2"):
        call_command("audit", "verify")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger is PostgreSQL-only")
def test_postgresql_refuses_update_and_delete() -> None:
    _entries(2)
    for sql in (
        "UPDATE audit_auditentry SET actor = 'x'",
        "DELETE FROM audit_auditentry",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert verify().entries == 2
