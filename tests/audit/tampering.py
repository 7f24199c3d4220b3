"""Writing audit entries, and tampering with them as someone with database access would."""

from __future__ import annotations

from django.db import connection, transaction

from tipline.audit.chain import GENESIS, _content, _mac, record
from tipline.audit.models import AuditEntry
from tipline.crypto.box import audit_key


def entries(n: int = 5, *, actor: str = "analyst1") -> None:
    for i in range(n):
        with transaction.atomic():
            record(
                actor=actor,
                action="report.view",
                target_type="report",
                target_id=i,
                details={"field": "payload"},
            )


def raw(sql: str, params: list[object]) -> None:
    """Tamper as someone with database access would (the triggers are dropped first on PG)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER USER")


def rechain() -> None:
    """Recompute every link and MAC with ``audit.key``, as an attacker holding the key would after
    editing rows: the result verifies on its own."""
    prev_hash = GENESIS
    for entry in AuditEntry.objects.order_by("seq"):
        entry_hash = _mac(audit_key(), prev_hash, _content(entry))
        raw(
            "UPDATE audit_auditentry SET prev_hash = %s, entry_hash = %s WHERE id = %s",
            [prev_hash, entry_hash, entry.id],
        )
        prev_hash = entry_hash
