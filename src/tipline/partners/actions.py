"""Writes to API credentials, each in one transaction with its audit entry.

The token exists in clear only in the return value of ``credential_create``: the caller shows it
once. The audit log records who created or revoked which credential, never a token or digest.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from tipline.audit.chain import record
from tipline.crypto.box import credential_digest
from tipline.partners.models import ApiCredential, CredentialKind, Scope

TOKEN_PREFIX = "tl_"  # noqa: S105 - a public prefix that makes leaked tokens easy to spot
TOKEN_BYTES = 32
# tl_ + 32 bytes in unpadded lowercase base32 (52 characters).
TOKEN_PATTERN = re.compile(r"^tl_[a-z2-7]{52}$")
TARGET = "api_credential"
# The HTTP Basic secret of a cybertipline credential: same strength and shape, its own prefix.
SECRET_PREFIX = "tlb_"  # noqa: S105 - a public prefix, as above
SECRET_PATTERN = re.compile(r"^tlb_[a-z2-7]{52}$")
BASIC_USER_PREFIX = "credential-"


class CredentialError(Exception):
    """Base of the errors credential actions raise; the message is fit to show an operator."""


class InvalidCredentialInput(CredentialError):
    pass


class CredentialNotFound(CredentialError):
    pass


class RateLimited(CredentialError):
    """The credential used up its look-ups for this minute."""


@dataclass(frozen=True)
class CreatedCredential:
    credential: ApiCredential
    token: str  # shown once, never stored
    secret: str = ""  # the HTTP Basic password of a cybertipline credential, shown once


def basic_username(credential: ApiCredential) -> str:
    return f"{BASIC_USER_PREFIX}{credential.pk}"


def secret_digest(secret: str) -> str:
    # Domain-separated from the bearer token's digest: a token never works as a secret.
    return credential_digest("basic:" + secret)


def new_secret() -> str:
    return SECRET_PREFIX + new_token().removeprefix(TOKEN_PREFIX)


def new_token() -> str:
    raw = base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode().rstrip("=").lower()
    return TOKEN_PREFIX + raw


def _check(name: str, kind: str, scopes: list[str], user_ref: str | None) -> list[str]:
    problems = []
    if not name.strip() or len(name) > 100:
        problems.append("A name of 1 to 100 characters is required.")
    if kind not in CredentialKind.values:
        problems.append(f"Unknown kind {kind!r}: choose one of {', '.join(CredentialKind.values)}.")
    if kind == CredentialKind.STAFF and not user_ref:
        problems.append("A staff credential needs the staff member (--user).")
    if kind == CredentialKind.PARTNER and user_ref:
        problems.append("A partner credential belongs to an organisation, not a staff member.")
    if not scopes:
        problems.append("Give at least one scope.")
    problems += [
        f"Unknown scope {s!r}: choose from {', '.join(Scope.values)}."
        for s in scopes
        if s not in Scope.values
    ]
    return problems


def _staff_user(user_ref: str) -> Any:
    """The active staff account with this e-mail address or username.

    Typed loosely: this app reaches the user model only through settings.AUTH_USER_MODEL.
    """
    users = get_user_model().objects.filter(is_active=True)
    found = list(users.filter(email__iexact=user_ref)[:2]) or list(
        users.filter(username=user_ref)[:1]
    )
    if len(found) != 1:
        raise InvalidCredentialInput(f"No single active staff member is {user_ref!r}.")
    return found[0]


def credential_create(
    *, actor: str, name: str, kind: str, scopes: list[str], user_ref: str | None = None
) -> CreatedCredential:
    scopes = sorted(set(scopes))
    problems = _check(name, kind, scopes, user_ref)
    if problems:
        raise InvalidCredentialInput("; ".join(problems))
    user = _staff_user(user_ref) if user_ref else None
    token = new_token()
    secret = new_secret() if Scope.CYBERTIPLINE in scopes else ""
    with transaction.atomic():
        credential = ApiCredential.objects.create(
            name=name.strip(),
            kind=kind,
            user=user,
            scopes=scopes,
            token_digest=credential_digest(token),
            secret_hash=secret_digest(secret) if secret else "",
            created_by=actor,
        )
        record(
            actor=actor,
            action="credential.create",
            target_type=TARGET,
            target_id=credential.pk,
            details={
                "name": credential.name,
                "kind": kind,
                "scopes": scopes,
                "user": getattr(user, "pk", None),
            },
        )
    return CreatedCredential(credential=credential, token=token, secret=secret)


def credential_new_secret(*, actor: str, credential_id: int) -> tuple[ApiCredential, str]:
    """Give a live cybertipline credential a new HTTP Basic secret; the old one stops working."""
    secret = new_secret()
    with transaction.atomic():
        credential = ApiCredential.objects.select_for_update().filter(pk=credential_id).first()
        if credential is None:
            raise CredentialNotFound(f"No API credential has the id {credential_id}.")
        if credential.revoked_at is not None:
            raise InvalidCredentialInput(f"Credential {credential_id} is revoked.")
        if Scope.CYBERTIPLINE not in credential.scopes:
            raise InvalidCredentialInput(
                f"Credential {credential_id} lacks the scope {Scope.CYBERTIPLINE.value}."
            )
        credential.secret_hash = secret_digest(secret)
        credential.save(update_fields=["secret_hash"])
        record(
            actor=actor,
            action="credential.secret",
            target_type=TARGET,
            target_id=credential.pk,
            details={"name": credential.name},
        )
    return credential, secret


def credential_revoke(*, actor: str, credential_id: int) -> ApiCredential:
    with transaction.atomic():
        credential = ApiCredential.objects.select_for_update().filter(pk=credential_id).first()
        if credential is None:
            raise CredentialNotFound(f"No API credential has the id {credential_id}.")
        if credential.revoked_at is not None:
            raise InvalidCredentialInput(f"Credential {credential_id} is already revoked.")
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
        record(
            actor=actor,
            action="credential.revoke",
            target_type=TARGET,
            target_id=credential.pk,
            details={"name": credential.name},
        )
    return credential


def _minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def lookups_per_minute() -> int:
    return int(settings.TIPLINE_API_LOOKUPS_PER_MINUTE)


def credential_charge(*, credential: ApiCredential, lookups: int) -> None:
    """Count ``lookups`` against the credential's minute and note its use; RateLimited if over.

    One UPDATE does it, so concurrent requests cannot both slip under the limit. A refused
    request is still counted: a client that keeps hammering stays refused for the minute.
    """
    now = timezone.now()
    window = _minute(now)
    with transaction.atomic():
        ApiCredential.objects.filter(pk=credential.pk).update(
            window_count=Case(
                When(window_start=window, then=F("window_count") + lookups),
                default=Value(lookups),
            ),
            window_start=window,
            last_used_at=now,
        )
        used = ApiCredential.objects.values_list("window_count", flat=True).get(pk=credential.pk)
    if used > lookups_per_minute():
        raise RateLimited("Too many look-ups with this credential in the last minute.")


def match_recorded(
    *, credential: ApiCredential, queries: int, matches: int, entries: list[int], upload: bool
) -> None:
    """Audit one look-up: who asked, how much, what was disclosed.

    The queried hash values are deliberately not recorded. A partner's query hash identifies a
    file that partner is investigating (often not known material at all), and the audit log is
    append-only and kept for ever: it must not become a second, unerasable hash list. Counts and
    the ids of matched bank entries (our own data, disclosed by the answer) make the look-up
    accountable without that.
    """
    with transaction.atomic():
        record(
            actor=f"credential:{credential.pk}",
            action="api.match",
            target_type=TARGET,
            target_id=credential.pk,
            details={
                "queries": queries,
                "matches": matches,
                "entries": entries[:50],
                "upload": upload,
            },
        )
