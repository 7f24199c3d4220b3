"""Test settings: a throw-away data directory per test run, with its keys, then the real settings.

The data directory is always a fresh temporary one, even when TIPLINE_DATA_DIR is set (the
Makefile exports the checkout's): tests never touch an installation's data or keys. Settings only
read keys, so the test run creates them here, as `tipline keys init` would.
"""

import os
import tempfile
from pathlib import Path

from tipline.crypto.keyfiles import init_keys

# The test client and the live server speak plain http.
os.environ.setdefault("TIPLINE_INSECURE_COOKIES", "1")
_DATA_DIR = Path(tempfile.mkdtemp(prefix="tipline-test-"))
os.environ["TIPLINE_DATA_DIR"] = str(_DATA_DIR)
init_keys(_DATA_DIR / "keys", stored_data=None)

from tipline.settings import *  # noqa: E402, F403

# Tests create many sign-in hashes; keep hashing cheap here only (the live server uses Argon2).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TIPLINE_RECEIPT_FAILURES_PER_MINUTE = 1000
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - WhiteNoise warns when it is missing
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # Django empties tables between transactional tests with TRUNCATE, which the audit table
    # refuses unless the session allows it (audit migration 0003). Only test databases do this.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c tipline.audit_truncate=allow"  # noqa: F405
TIPLINE_TAKEDOWN_ALLOW_LOOPBACK = True  # the tests' own web servers are on 127.0.0.1
TIPLINE_EXCHANGE_ALLOW_HTTP = True  # pulls between two local test instances speak http
TIPLINE_SHARED_BANKS = ["shared"]
TIPLINE_WEBHOOK_ALLOW_PRIVATE = True  # the test receiver listens on loopback
