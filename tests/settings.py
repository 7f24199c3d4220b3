"""Test settings: a throw-away data directory per test run, then the real settings."""

import os
import tempfile

# The test client and the live server speak plain http.
os.environ.setdefault("TIPLINE_INSECURE_COOKIES", "1")
os.environ.setdefault("TIPLINE_DATA_DIR", tempfile.mkdtemp(prefix="tipline-test-"))

from tipline.settings import *  # noqa: F403

# Tests create many sign-in hashes; keep hashing cheap here only (the live server uses Argon2).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TIPLINE_RECEIPT_FAILURES_PER_MINUTE = 1000
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - WhiteNoise warns when it is missing
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # Django empties tables between transactional tests with TRUNCATE, which the audit table
    # refuses unless the session allows it (audit migration 0003). Only test databases do this.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c tipline.audit_truncate=allow"  # noqa: F405
