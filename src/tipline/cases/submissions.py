"""Form tokens: the one-use value a public form is sent with.

A token makes sending the same form twice return the first answer (Reload, a phone app's retry)
and lets Quick exit tell the server "never show this again" (cases.actions.submission_withhold).
It lives here, below every page that renders one, so the home page, the report forms, the
locker and the assistant's "in your own words" step all make them the same way.
"""

from __future__ import annotations

import re
import secrets

SUBMISSION_TOKEN = re.compile(r"\A[A-Za-z0-9_-]{16,128}\Z")


def new_submission_token() -> str:
    return secrets.token_urlsafe(24)


def is_submission_token(value: object) -> bool:
    return isinstance(value, str) and SUBMISSION_TOKEN.fullmatch(value) is not None
