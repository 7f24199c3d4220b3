"""Opening a locker and the short-lived sessions that keep it open, without any cookie.

The public site sets no cookies, so an opened locker is a 128-bit token that travels only in a
hidden field of POSTed forms (never in a URL: nothing in history or logs). The database keeps
the token's keyed digest and the locker's data key sealed under a key derived from the token.
A session ends after ``TIPLINE_LOCKER_IDLE_MINUTES`` without a request, or at once with "Lock
now" or the locker's quick exit. Expired rows are deleted lazily, whenever any session is looked
up or created, so no scheduled job is needed and a stale row never outlives the next visitor by
more than a request.

The passphrase POST (open or create) is answered with a redirect, so that no entry of the
browser's history holds the passphrase for Back and Reload to send again. The page it redirects
to learns the new session's token through a *hand-off ticket* in its address: another 128-bit
value that works once, for ``HANDOFF_SECONDS``, and is deleted when used. The ticket is not the
session token; what remains in the history list is a dead string (docs/threat-model.md).

"Wrong passphrase" and "no such locker" are one answer (``LockerNotFound``) after the same work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tipline import crypto, throttle
from tipline.crypto import passphrase as pp
from tipline.locker.models import Locker, LockerHandoff, LockerSession, OpenThrottle

# Long enough for a slow phone to follow a redirect, short enough that a ticket left unused
# (the page never arrived) is gone before anyone else holds the device.
HANDOFF_SECONDS = 60


class LockerNotFound(Exception):
    """No locker opens with this passphrase. Deliberately the same for every cause."""


class TooManyAttempts(Exception):
    """This passphrase's bucket has had its failed opens for the minute, or every Argon2 slot
    is busy; try again shortly."""


class SessionInvalid(Exception):
    """The session token is missing, malformed, unknown, expired or locked."""


@dataclass(frozen=True)
class Opened:
    locker: Locker
    key: bytes  # the locker's data key, for this request only
    token: str  # the session token, to be put back into every form of the page


def key_context(locker_id: uuid.UUID) -> str:
    return crypto.context("locker", locker_id, "key")


def seal_data_key(locker_id: uuid.UUID, data_key: bytes, unlock_key: bytes) -> bytes:
    inner = crypto.seal(unlock_key, data_key, context=key_context(locker_id))
    return crypto.wrap_data_key(inner, context=key_context(locker_id))


def idle_minutes() -> int:
    return int(settings.TIPLINE_LOCKER_IDLE_MINUTES)


def _idle() -> timedelta:
    return timedelta(minutes=idle_minutes())


def _forget_expired() -> None:
    now = timezone.now()
    LockerSession.objects.filter(last_seen_at__lt=now - _idle()).delete()
    LockerHandoff.objects.filter(created_at__lt=now - timedelta(seconds=HANDOFF_SECONDS)).delete()


def start(locker: Locker, data_key: bytes) -> Opened:
    token = pp.new_session_token()
    digest = pp.session_digest(token)
    with transaction.atomic():
        _forget_expired()
        LockerSession.objects.create(
            digest=digest,
            locker=locker,
            sealed_key=crypto.seal(
                pp.session_key(token), data_key, context=crypto.context("locker-session", digest)
            ),
        )
    return Opened(locker=locker, key=data_key, token=token)


@contextmanager
def argon2_slot() -> Iterator[None]:
    """One of the machine's few Argon2 slots (64 MiB each), or ``TooManyAttempts`` at once."""
    try:
        with throttle.slot("locker-argon2", int(settings.TIPLINE_LOCKER_ARGON2_SLOTS)):
            yield
    except throttle.Busy:
        raise TooManyAttempts from None


def _unlock(passphrase: str) -> tuple[Locker, bytes]:
    """The locker this passphrase opens and its data key.

    The passphrase's bucket budget (``tipline.throttle``) and an Argon2 slot are both taken
    before Argon2 runs, so neither a guesser nor a flood can make it run more than they allow.
    """
    bucket = pp.throttle_bucket(passphrase, int(settings.TIPLINE_LOCKER_OPEN_BUCKETS))
    budget = int(settings.TIPLINE_LOCKER_OPEN_FAILURES_PER_MINUTE)
    try:
        with argon2_slot(), OpenThrottle.attempt(bucket=bucket, budget=budget):
            derived = pp.derive(passphrase)
            locker = Locker.objects.filter(lookup_digest=derived.lookup).first()
            if locker is None:
                raise LockerNotFound
            try:
                inner = crypto.unwrap_data_key(
                    bytes(locker.wrapped_key), context=key_context(locker.id)
                )
                data_key = crypto.open_sealed(
                    derived.unlock_key, inner, context=key_context(locker.id)
                )
            except crypto.DecryptionError:
                raise LockerNotFound from None
    except throttle.Throttled:
        raise TooManyAttempts from None
    return locker, data_key


def open_with_passphrase(passphrase: str) -> Opened:
    """Open the locker this passphrase opens (throttled before Argon2 runs: ``_unlock``)."""
    return start(*_unlock(passphrase))


def passphrase_opens(opened: Opened, passphrase: str) -> bool:
    """Whether ``passphrase`` opens this very locker (asked again before it is deleted)."""
    try:
        locker, _key = _unlock(passphrase)
    except LockerNotFound:
        return False
    return locker.id == opened.locker.id


def _handoff_context(digest: str) -> str:
    return f"locker-handoff:{digest}"


def hand_off(opened: Opened) -> str:
    """A one-use ticket that gives this session's token to the page the redirect leads to."""
    ticket = pp.new_session_token()
    digest = pp.session_digest(ticket)
    sealed = crypto.seal(
        pp.session_key(ticket), opened.token.encode(), context=_handoff_context(digest)
    )
    with transaction.atomic():
        _forget_expired()
        LockerHandoff.objects.create(digest=digest, locker=opened.locker, sealed_token=sealed)
    return ticket


def take_handoff(ticket: str) -> Opened:
    """The session a ticket hands over, once; ``SessionInvalid`` for a used, old or forged one."""
    if not ticket or len(ticket) > 64:
        raise SessionInvalid
    digest = pp.session_digest(ticket)
    with transaction.atomic():
        _forget_expired()
        row = LockerHandoff.objects.filter(digest=digest).first()
        # Deleting by primary key and counting makes two concurrent uses yield one winner.
        taken = row is not None and LockerHandoff.objects.filter(pk=row.pk).delete()[0] == 1
    if row is None or not taken:
        raise SessionInvalid
    try:
        token = crypto.open_sealed(
            pp.session_key(ticket), bytes(row.sealed_token), context=_handoff_context(digest)
        ).decode()
    except crypto.DecryptionError:
        raise SessionInvalid from None
    return resume(token)


def resume(token: str) -> Opened:
    """The locker a posted session token opens; ``SessionInvalid`` for any failure."""
    if not token or len(token) > 64:
        raise SessionInvalid
    digest = pp.session_digest(token)
    with transaction.atomic():
        _forget_expired()
        row = LockerSession.objects.select_related("locker").filter(digest=digest).first()
        if row is not None:
            LockerSession.objects.filter(pk=row.pk).update(last_seen_at=timezone.now())
    if row is None:
        raise SessionInvalid
    try:
        key = crypto.open_sealed(
            pp.session_key(token),
            bytes(row.sealed_key),
            context=crypto.context("locker-session", digest),
        )
    except crypto.DecryptionError:
        raise SessionInvalid from None
    return Opened(locker=row.locker, key=key, token=token)


def lock(token: str) -> None:
    """End the session now ("Lock now", quick exit). An unknown token is not an error."""
    if token and len(token) <= 64:
        LockerSession.objects.filter(digest=pp.session_digest(token)).delete()
