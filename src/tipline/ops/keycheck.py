"""Start-up refuses to run with a missing, damaged or unrecorded key (issue 14, item 2).

The checks themselves are in tipline.crypto.keyfiles (Django-free); this module runs them where
the platform starts: as a system check, which every command that starts a server, a worker or a
migration runs first (`tipline serve`, `db_worker`, `migrate`, `check`), and from tipline.wsgi
for anyone who runs gunicorn directly. `tipline keys` skips the system checks, so that it can
create missing keys and report on damaged ones.

``stored_data`` tells `tipline keys init` whether the data directory already holds data that
keys were protecting: then a missing key is restored from backup, never replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from tipline import storage
from tipline.audit.models import AuditEntry
from tipline.cases.models import Report
from tipline.crypto import keyfiles
from tipline.locker.models import Locker


def key_files_check(**_kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(problem, id="tipline.E001")
        for problem in keyfiles.problems(Path(settings.KEY_DIR))
    ]


def storage_settings_check(**_kwargs: Any) -> list[checks.CheckMessage]:
    """TIPLINE_STORAGE=s3 without a bucket or with a bad credentials file stops the start."""
    return [
        checks.Error(problem, id="tipline.E002") for problem in storage.configuration_problems()
    ]


def refuse_to_start_without_keys() -> None:
    """For tipline.wsgi: a web worker with a bad key would answer every report with a 500."""
    problems = keyfiles.problems(Path(settings.KEY_DIR))
    if problems:
        raise ImproperlyConfigured("Tipline will not start:\n" + "\n".join(problems))


def stored_data() -> str | None:
    """What data exists that the keys protect, in words, or None. Creates nothing.

    A SQLite file that does not exist yet is not opened (opening would create it), and tables
    that do not exist yet (before `migrate`) hold nothing.
    """
    evidence = Path(settings.EVIDENCE_DIR)
    if evidence.is_dir() and any(evidence.iterdir()):
        return f"the evidence store {evidence} holds files"
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        in_memory = name == ":memory:" or "mode=memory" in name
        if not in_memory and not Path(name).exists():
            return None
    tables = set(connection.introspection.table_names())
    kinds = ((Report, "reports"), (Locker, "evidence lockers"), (AuditEntry, "an audit log"))
    for model, what in kinds:
        if model._meta.db_table in tables and model.objects.exists():
            return f"the database holds {what}"
    return None
