"""The console's session states: half signed in (password checked) and signed in (both factors).

Between the password and the code the session holds only a pending marker: no Django login has
happened, so ``request.user`` is anonymous and nothing but the code and enrolment pages will
serve it. The marker expires after ``TIPLINE_SIGN_IN_PENDING_SECONDS`` and dies with the epoch.
The session key is cycled when the marker is set and again by ``login()`` when the code is
accepted, so a key planted before sign-in (session fixation) is never the signed-in one.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from tipline.staff.models import StaffUser

PENDING = "console_pending"
EPOCH = "console_epoch"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def begin_pending(request: HttpRequest, user: StaffUser) -> None:
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk,
        "epoch": user.session_epoch,
        "at": int(time.time()),
    }


def pending_user(request: HttpRequest) -> StaffUser | None:
    marker = request.session.get(PENDING)
    if not isinstance(marker, dict):
        return None
    age = time.time() - float(marker.get("at", 0))
    if not 0 <= age <= settings.TIPLINE_SIGN_IN_PENDING_SECONDS:
        clear_pending(request)
        return None
    user_id = marker.get("user")
    if not isinstance(user_id, int):
        return None
    user = StaffUser.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.session_epoch != marker.get("epoch"):
        clear_pending(request)
        return None
    return user


def clear_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING, None)


def complete(request: HttpRequest, user: StaffUser, device: TOTPDevice) -> None:
    """Both factors passed: log in (which cycles the session key) and bind the device."""
    clear_pending(request)
    login(request, user, backend=BACKEND)
    otp_login(request, device)
    request.session[EPOCH] = user.session_epoch


def is_current(request: HttpRequest) -> bool:
    """A fully signed-in, active staff member whose session is not from an older epoch."""
    user = request.user
    if not isinstance(user, StaffUser) or not user.is_active:
        return False
    verified = getattr(user, "is_verified", None)
    if verified is None or not verified():
        return False
    return bool(request.session.get(EPOCH) == user.session_epoch)
