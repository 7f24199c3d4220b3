"""Staff actions: the only writes to staff accounts and to sign-in state.

Each runs in one transaction and writes its audit entry in it. A failed sign-in is committed
(counted and audited) before ``SignInFailed`` reaches the caller, so raising never rolls the
failure back. Nothing here audits a password, a TOTP code or a secret. A username typed for an
account that does not exist is not recorded either: people type passwords into that field.

Lockout is per account, because no client address is kept to count per client (see
docs/threat-model.md). Unknown accounts, wrong passwords, wrong codes, locked and disabled
accounts all end in the same ``SignInFailed`` after one run of the password hasher, so neither the
answer nor its cost tells them apart. The trade-off: anyone who knows a username can keep that
account locked; an administrator can see it in the audit log.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tipline.audit.chain import record
from tipline.staff.models import Role, StaffUser

LOCK_AFTER = 5
FIRST_LOCK = timedelta(minutes=15)
LONGEST_LOCK = timedelta(hours=24)
# Who did it, when it was not a signed-in person: the `tipline staff` command, or a visitor.
CLI = "cli"
ANONYMOUS = "anonymous"
TARGET = "staff"


class StaffError(Exception):
    """Base of the errors staff actions raise for the adapters to turn into answers."""


class InvalidStaffInput(StaffError):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class StaffNotFound(StaffError):
    pass


class SignInFailed(StaffError):
    """One error for every reason a sign-in step fails. Deliberately uninformative."""


@dataclass(frozen=True)
class CreatedStaff:
    user: StaffUser
    device: TOTPDevice


def _name(actor: StaffUser | None) -> str:
    return actor.username if actor is not None else CLI


def _check_role(role: str, agency: str) -> list[str]:
    if role not in Role.values:
        return [f"Unknown role {role!r}: choose one of {', '.join(Role.values)}."]
    if role == Role.LIAISON and not agency.strip():
        return ["A liaison needs an agency (--agency)."]
    return []


def staff_create(
    *, actor: StaffUser | None, username: str, role: str, password: str, agency: str = ""
) -> CreatedStaff:
    """A new staff member with an unconfirmed TOTP device, confirmed at first sign-in."""
    agency = agency.strip()
    errors = _check_role(role, agency)
    user = StaffUser(username=username, role=role, agency=agency)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as invalid:
        errors += invalid.messages
    try:
        validate_password(password, user=user)
    except ValidationError as weak:
        errors += weak.messages
    if errors:
        raise InvalidStaffInput(errors)
    user.set_password(password)
    with transaction.atomic():
        user.save(force_insert=True)
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
        record(
            actor=_name(actor),
            action="staff.create",
            target_type=TARGET,
            target_id=user.username,
            details={"role": role, "agency": agency},
        )
    return CreatedStaff(user=user, device=device)


def staff_disable(*, actor: StaffUser | None, username: str) -> StaffUser:
    """Disable an account and end all its sessions. Audit history keeps the account."""
    with transaction.atomic():
        user = StaffUser.objects.select_for_update().filter(username=username).first()
        if user is None:
            raise StaffNotFound(f"No staff member is called {username!r}.")
        user.is_active = False
        user.session_epoch += 1
        user.save(update_fields=["is_active", "session_epoch"])
        record(actor=_name(actor), action="staff.disable", target_type=TARGET, target_id=username)
    return user


def staff_set_role(
    *, actor: StaffUser | None, username: str, role: str, agency: str | None = None
) -> StaffUser:
    with transaction.atomic():
        user = StaffUser.objects.select_for_update().filter(username=username).first()
        if user is None:
            raise StaffNotFound(f"No staff member is called {username!r}.")
        new_agency = user.agency if agency is None else agency.strip()
        errors = _check_role(role, new_agency)
        if errors:
            raise InvalidStaffInput(errors)
        previous = user.role
        user.role = role
        user.agency = new_agency
        user.save(update_fields=["role", "agency"])
        record(
            actor=_name(actor),
            action="staff.set_role",
            target_type=TARGET,
            target_id=username,
            details={"from": previous, "to": role, "agency": new_agency},
        )
    return user


# --- signing in -------------------------------------------------------------------------------


@functools.cache
def _dummy_hash() -> str:
    # Checked against when the account does not exist, so that costs one hasher run too.
    return make_password(secrets.token_urlsafe(24))


def _refusal(user: StaffUser, now: datetime) -> str | None:
    if not user.is_active:
        return "disabled"
    if user.locked_until is not None and user.locked_until > now:
        return "locked"
    return None


def _fail(user: StaffUser, reason: str, now: datetime) -> None:
    """Count a failure (inside the caller's transaction) and lock the account at the limit."""
    details: dict[str, object] = {"reason": reason}
    counts = reason in ("password", "code")
    if counts:
        user.failed_sign_ins += 1
        details["failures"] = user.failed_sign_ins
    record(
        actor=user.username,
        action="auth.sign_in_failed",
        target_type=TARGET,
        target_id=user.username,
        details=details,
    )
    if not counts:
        return
    if user.failed_sign_ins >= LOCK_AFTER:
        # 15 min, 30, 60, … capped at a day; the exponent is capped so the product cannot overflow.
        duration = min(FIRST_LOCK * 2 ** min(user.lockouts, 10), LONGEST_LOCK)
        user.locked_until = now + duration
        user.lockouts += 1
        user.failed_sign_ins = 0
        record(
            actor=user.username,
            action="auth.locked",
            target_type=TARGET,
            target_id=user.username,
            details={"minutes": int(duration.total_seconds()) // 60},
        )
    user.save(update_fields=["failed_sign_ins", "locked_until", "lockouts"])


def sign_in_password(*, username: str, password: str) -> StaffUser:
    """First step: the password. Success only means "ask for the code next"."""
    found = StaffUser.objects.filter(username=username).first()
    if found is None:
        check_password(password, _dummy_hash())
        with transaction.atomic():
            record(
                actor=ANONYMOUS,
                action="auth.sign_in_failed",
                target_type=TARGET,
                details={"reason": "unknown_account"},
            )
        raise SignInFailed
    # The hasher runs for disabled and locked accounts too, so every refusal costs the same.
    password_ok = found.check_password(password)
    now = timezone.now()
    with transaction.atomic():
        user = StaffUser.objects.select_for_update().get(pk=found.pk)
        reason = _refusal(user, now) or (None if password_ok else "password")
        if reason is not None:
            _fail(user, reason, now)
    if reason is not None:
        raise SignInFailed
    return user


def _second_factor(*, user_id: int, token: str, enrolling: bool) -> tuple[StaffUser, TOTPDevice]:
    now = timezone.now()
    with transaction.atomic():
        user = StaffUser.objects.select_for_update().get(pk=user_id)
        reason = _refusal(user, now)
        device = None
        if reason is None and enrolling and TOTPDevice.objects.filter(user=user, confirmed=True):
            # Someone who has only the password must not replace a working second factor.
            reason = "code"
        if reason is None:
            # Locked with the account row, so one code cannot be accepted twice by two requests
            # at once; django-otp refuses a code at or before the last accepted time step.
            device = (
                TOTPDevice.objects.select_for_update()
                .filter(user=user, confirmed=not enrolling)
                .order_by("-id")
                .first()
            )
            if device is None or not device.verify_token(token):
                reason = "code"
        if reason is not None or device is None:
            _fail(user, reason or "code", now)
        else:
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                record(
                    actor=user.username,
                    action="auth.totp_enrolled",
                    target_type=TARGET,
                    target_id=user.username,
                )
            user.failed_sign_ins = 0
            user.lockouts = 0
            user.locked_until = None
            user.save(update_fields=["failed_sign_ins", "lockouts", "locked_until"])
            record(
                actor=user.username,
                action="auth.sign_in",
                target_type=TARGET,
                target_id=user.username,
            )
    if reason is not None or device is None:
        raise SignInFailed
    return user, device


def sign_in_code(*, user_id: int, token: str) -> tuple[StaffUser, TOTPDevice]:
    """Second step: a current code from the person's confirmed authenticator."""
    return _second_factor(user_id=user_id, token=token, enrolling=False)


def totp_enrol_confirm(*, user_id: int, token: str) -> tuple[StaffUser, TOTPDevice]:
    """First sign-in: a code from the new authenticator confirms it and completes the sign-in."""
    return _second_factor(user_id=user_id, token=token, enrolling=True)


def totp_enrolment_device(*, user: StaffUser) -> TOTPDevice:
    """The unconfirmed device to enrol; issued here if the account was created without one."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
            record(
                actor=user.username,
                action="auth.totp_issued",
                target_type=TARGET,
                target_id=user.username,
            )
    return device


def sign_out(*, user: StaffUser) -> None:
    with transaction.atomic():
        record(
            actor=user.username, action="auth.sign_out", target_type=TARGET, target_id=user.username
        )


def sign_out_everywhere(*, user: StaffUser) -> None:
    """End every session of this person: each one carries the epoch it was opened in."""
    with transaction.atomic():
        StaffUser.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
        record(
            actor=user.username,
            action="auth.sign_out_everywhere",
            target_type=TARGET,
            target_id=user.username,
        )
