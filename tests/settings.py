"""Test settings: a throw-away data directory per test run, then the real settings."""

import os
import tempfile

os.environ.setdefault("TIPLINE_DATA_DIR", tempfile.mkdtemp(prefix="tipline-test-"))

from tipline.settings import *  # noqa: F403

# Tests create many sign-in hashes later; keep hashing cheap here only.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TIPLINE_RECEIPT_FAILURES_PER_MINUTE = 1000
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - WhiteNoise warns when it is missing
