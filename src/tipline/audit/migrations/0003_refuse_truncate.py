"""On PostgreSQL, refuse TRUNCATE on the audit table too, like UPDATE and DELETE (0002).

The row trigger of 0002 does not fire on TRUNCATE, which empties the table in one statement; a
statement trigger does. The test suite empties tables between tests with TRUNCATE, so a session
may allow it by setting ``tipline.audit_truncate = 'allow'`` (tests/settings.py does, for its
own throw-away databases only). That is no weaker than the row trigger: whoever can set a session
variable on the owner's connection could also disable the trigger. A hardened deployment runs the
application under a role that does not own the table and has no TRUNCATE privilege, and signed
checkpoints (``tipline audit checkpoint``) expose a log that was emptied anyway.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION tipline_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('tipline.audit_truncate', true), '') = 'allow' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'the audit log is append-only (TRUNCATE refused)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_no_truncate
    BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION tipline_audit_no_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditentry;
DROP FUNCTION IF EXISTS tipline_audit_no_truncate();
"""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]
    operations = [migrations.RunPython(forwards, backwards)]
