"""On PostgreSQL, refuse UPDATE and DELETE on the audit table at the database itself.

SQLite has no per-statement privileges worth the name; there the hash chain alone detects edits.
TRUNCATE is left to the table owner (Django's test runner empties tables with it); a hardened
deployment runs the application under a role that does not own the table, and anchoring
`tipline audit head` elsewhere exposes a log emptied and rewritten.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION tipline_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'the audit log is append-only (' || TG_OP || ' refused)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_append_only
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION tipline_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS tipline_audit_append_only();
"""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
