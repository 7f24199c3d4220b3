"""Authenticating an API request by its ``Authorization: Bearer <token>`` header.

Every way of failing before the scope check raises the same ``Unauthorized`` (and the adapter
answers each with the same 401), so probing tells a caller nothing about which tokens exist, were
revoked, or belong to a deactivated staff member. The token is checked for shape first, so junk
never reaches the database; then its keyed digest is looked up by equality on a unique column.
The digest is keyed with a secret the caller does not know, so timing of that comparison cannot
be steered towards a real digest; ``hmac.compare_digest`` re-checks it in constant time anyway.
"""

from __future__ import annotations

import binascii
import hmac
from base64 import b64decode

from django.http import HttpRequest

from tipline.crypto.box import credential_digest
from tipline.partners.actions import (
    BASIC_USER_PREFIX,
    SECRET_PATTERN,
    TOKEN_PATTERN,
    secret_digest,
)
from tipline.partners.models import ApiCredential, CredentialKind


class Unauthorized(Exception):
    """No usable credential. Deliberately one error for every reason."""


class Forbidden(Exception):
    """A valid credential without the scope this route needs."""


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not TOKEN_PATTERN.fullmatch(token):
        raise Unauthorized
    return token


def credential_for_request(request: HttpRequest, *, scope: str) -> ApiCredential:
    """The live credential the request presents, if it holds ``scope``."""
    token = _bearer(request)
    digest = credential_digest(token)
    credential = ApiCredential.objects.select_related("user").filter(token_digest=digest).first()
    if credential is None or not hmac.compare_digest(credential.token_digest, digest):
        raise Unauthorized
    if credential.revoked_at is not None:
        raise Unauthorized
    if credential.kind == CredentialKind.STAFF and not _user_active(credential):
        raise Unauthorized
    if scope not in credential.scopes:
        raise Forbidden
    return credential


def _user_active(credential: ApiCredential) -> bool:
    user = credential.user
    return user is not None and bool(getattr(user, "is_active", False))


def _basic(request: HttpRequest) -> tuple[int, str]:
    """``(credential id, secret)`` from ``Authorization: Basic``; Unauthorized for any junk."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, encoded = header.partition(" ")
    if scheme.lower() != "basic" or len(encoded) > 200:
        raise Unauthorized
    try:
        user, colon, secret = b64decode(encoded, validate=True).decode("ascii").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized from None
    number = user.removeprefix(BASIC_USER_PREFIX)
    if (
        not colon
        or not user.startswith(BASIC_USER_PREFIX)
        or not number.isascii()
        or not number.isdigit()
        or len(number) > 18
        or not SECRET_PATTERN.fullmatch(secret)
    ):
        raise Unauthorized
    return int(number), secret


def credential_for_basic(request: HttpRequest, *, scope: str) -> ApiCredential:
    """The live partner credential whose HTTP Basic user and secret the request presents.

    The same single ``Unauthorized`` for every failure, like the bearer check; the digest of
    the secret is compared in constant time.
    """
    credential_id, secret = _basic(request)
    credential = ApiCredential.objects.filter(pk=credential_id).first()
    digest = secret_digest(secret)
    if credential is None or not credential.secret_hash:
        raise Unauthorized
    if not hmac.compare_digest(credential.secret_hash, digest):
        raise Unauthorized
    if credential.revoked_at is not None or credential.kind != CredentialKind.PARTNER:
        raise Unauthorized
    if scope not in credential.scopes:
        raise Forbidden
    return credential
