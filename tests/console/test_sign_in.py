"""The console's sign-in: password, then TOTP (enrolling at first sign-in), sessions, sign-out.

Every test drives the real middleware stack through Django's test client.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from tests.factories import STAFF_PASSWORD, staff, totp_code
from tipline.audit.models import AuditEntry
from tipline.staff.models import StaffUser

pytestmark = pytest.mark.django_db

FAILED = "Sign-in failed. Check your details, or wait and try again."
HOME, SIGN_IN, CODE, ENROL = (
    "/console/",
    "/console/sign-in/",
    "/console/sign-in/code/",
    "/console/enrol/",
)
COOKIE = "tipline_console"
# Where a caseworker lands after signing in (issue 15: the queue, not the account page).
LANDING = "/console/queue/"


def password_step(client: Client, username: str = "ana", password: str = STAFF_PASSWORD) -> Any:
    return client.post(SIGN_IN, {"username": username, "password": password})


def sign_in(client: Client, created: Any, *, steps_ahead: int = 0) -> None:
    assert password_step(client, created.user.username)["Location"] == CODE
    response = client.post(CODE, {"code": totp_code(created.device, steps_ahead=steps_ahead)})
    assert response.status_code == 302
    assert response["Location"] == LANDING


def test_sign_in_with_password_and_code_reaches_home() -> None:
    created = staff("ana", "supervisor")
    client = Client()
    sign_in(client, created)
    page = client.get(HOME)
    assert page.status_code == 200
    text = page.content.decode()
    assert "ana" in text
    assert "Supervisor" in text
    assert 'href="/console/queue/"' in text
    assert 'action="/console/sign-out/"' in text
    assert 'action="/console/sign-out/everywhere/"' in text


def test_the_password_alone_never_reaches_the_console() -> None:
    staff("ana")
    client = Client()
    assert password_step(client).status_code == 302
    for path in (HOME, "/console/sign-out/everywhere/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == SIGN_IN
    assert client.get(CODE).status_code == 200
    assert client.get(ENROL)["Location"] == CODE  # already enrolled: no secret shown again


@pytest.mark.parametrize("case", ["unknown", "wrong", "locked", "disabled"])
def test_every_failure_gets_the_same_answer(case: str) -> None:
    staff("ana")
    username, password = "ana", STAFF_PASSWORD
    if case == "unknown":
        username = "anna"
    elif case == "wrong":
        password = "quiet river lantern 2048"
    elif case == "locked":
        StaffUser.objects.filter(username="ana").update(
            locked_until=timezone.now() + timedelta(minutes=15)
        )
    else:
        StaffUser.objects.filter(username="ana").update(is_active=False)
    client = Client()
    response = password_step(client, username, password)
    assert response.status_code == 200
    text = response.content.decode()
    assert FAILED in text
    assert 'value="ana"' in text or 'value="anna"' in text  # the username is kept
    assert password not in text
    assert client.get(CODE)["Location"] == SIGN_IN


def test_five_wrong_passwords_lock_the_account_in_the_browser_flow() -> None:
    staff("ana")
    client = Client()
    for _ in range(5):
        assert FAILED in password_step(client, password="wrong wrong wrong").content.decode()
    assert FAILED in password_step(client).content.decode()
    StaffUser.objects.filter(username="ana").update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert password_step(client)["Location"] == CODE


def test_a_wrong_code_is_refused_with_the_same_message() -> None:
    created = staff("ana")
    client = Client()
    password_step(client)
    right = totp_code(created.device)
    response = client.post(CODE, {"code": f"{(int(right) + 1) % 1_000_000:06d}"})
    assert response.status_code == 200
    assert FAILED in response.content.decode()
    assert client.get(HOME).status_code == 302
    assert StaffUser.objects.get(username="ana").failed_sign_ins == 1


def test_a_malformed_code_is_explained_and_not_counted() -> None:
    staff("ana")
    client = Client()
    password_step(client)
    response = client.post(CODE, {"code": "12ab"})
    assert "Enter the 6 digits" in response.content.decode()
    assert StaffUser.objects.get(username="ana").failed_sign_ins == 0


def test_first_sign_in_enrols_the_authenticator() -> None:
    created = staff("ana", confirmed=False)
    client = Client()
    assert password_step(client)["Location"] == ENROL
    assert client.get(CODE)["Location"] == ENROL
    assert client.get(HOME)["Location"] == SIGN_IN
    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    secret = re.search(r'data-secret="([A-Z2-7]+)"', html)
    assert secret is not None
    assert bytes.fromhex(created.device.key) == __import__("base64").b32decode(secret.group(1))
    assert "otpauth://totp/" in html
    # The QR code is inline SVG: no data: URI, no inline style for the CSP to refuse.
    assert "<svg" in html
    assert "style=" not in html
    assert "data:" not in html
    response = client.post(ENROL, {"code": totp_code(created.device)})
    assert response["Location"] == LANDING
    created.device.refresh_from_db()
    assert created.device.confirmed
    assert client.get(HOME).status_code == 200
    assert "auth.totp_enrolled" in AuditEntry.objects.values_list("action", flat=True)


def test_enrolment_needs_a_valid_code() -> None:
    created = staff("ana", confirmed=False)
    client = Client()
    password_step(client)
    right = totp_code(created.device)
    response = client.post(ENROL, {"code": f"{(int(right) + 1) % 1_000_000:06d}"})
    assert FAILED in response.content.decode()
    created.device.refresh_from_db()
    assert not created.device.confirmed
    assert client.get(HOME).status_code == 302


def test_a_code_used_once_is_refused_in_another_session() -> None:
    created = staff("ana")
    code = totp_code(created.device)
    first, second = Client(), Client()
    password_step(first)
    assert first.post(CODE, {"code": code})["Location"] == LANDING
    password_step(second)
    response = second.post(CODE, {"code": code})
    assert FAILED in response.content.decode()
    assert second.get(HOME).status_code == 302


def test_sign_out_everywhere_ends_the_other_sessions() -> None:
    created = staff("ana")
    laptop, phone = Client(), Client()
    sign_in(laptop, created)
    sign_in(phone, created, steps_ahead=1)
    assert phone.get(HOME).status_code == 200
    response = laptop.post("/console/sign-out/everywhere/")
    assert response["Location"] == SIGN_IN + "?done=everywhere"
    assert laptop.get(HOME)["Location"] == SIGN_IN
    assert phone.get(HOME)["Location"] == SIGN_IN
    assert "auth.sign_out_everywhere" in AuditEntry.objects.values_list("action", flat=True)


def test_disabling_an_account_ends_its_session() -> None:
    created = staff("ana")
    client = Client()
    sign_in(client, created)
    from tipline.staff import actions

    actions.staff_disable(actor=None, username="ana")
    assert client.get(HOME)["Location"] == SIGN_IN


def test_sign_out_ends_the_session() -> None:
    created = staff("ana")
    client = Client()
    sign_in(client, created)
    key = client.cookies[COOKIE].value
    assert client.get("/console/sign-out/").status_code == 405
    response = client.post("/console/sign-out/")
    assert response["Location"] == SIGN_IN + "?done=out"
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(HOME)["Location"] == SIGN_IN
    assert "signed out" in client.get(SIGN_IN + "?done=out").content.decode()
    assert "auth.sign_out" in AuditEntry.objects.values_list("action", flat=True)


def test_the_session_key_changes_at_each_sign_in_step() -> None:
    """Session fixation: a key planted before sign-in is never the signed-in session's key."""
    created = staff("ana")
    client = Client()
    from django.contrib.sessions.backends.db import SessionStore

    planted = SessionStore()
    planted["x"] = 1
    planted.save()
    assert planted.session_key is not None
    client.cookies[COOKIE] = planted.session_key
    password_step(client)
    pending = client.cookies[COOKIE].value
    assert pending != planted.session_key
    client.post(CODE, {"code": totp_code(created.device)})
    signed_in = client.cookies[COOKIE].value
    assert signed_in not in (planted.session_key, pending)
    assert not Session.objects.filter(session_key=planted.session_key).exists()
    assert client.get(HOME).status_code == 200


def test_the_half_signed_in_state_expires() -> None:
    staff("ana")
    client = Client()
    password_step(client)
    session = client.session
    marker = session["console_pending"]
    marker["at"] -= settings.TIPLINE_SIGN_IN_PENDING_SECONDS + 1
    session["console_pending"] = marker
    session.save()
    assert client.get(CODE)["Location"] == SIGN_IN


def test_sessions_expire_after_30_idle_minutes_or_when_the_browser_closes() -> None:
    assert settings.SESSION_COOKIE_AGE == 1800
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    created = staff("ana")
    client = Client()
    sign_in(client, created)
    response = client.get(HOME)
    morsel = response.cookies[COOKIE]
    # A browser-session cookie: no lifetime of its own; the server ends it after 30 idle minutes.
    assert morsel["max-age"] == ""
    assert morsel["expires"] == ""
    key = morsel.value
    expiry = Session.objects.get(session_key=key).expire_date
    assert timedelta(minutes=29) < expiry - timezone.now() <= timedelta(minutes=30)
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(HOME)["Location"] == SIGN_IN


def test_console_cookies_are_scoped_strict_and_hidden_from_scripts() -> None:
    created = staff("ana")
    client = Client()
    sign_in(client, created)
    for name in (COOKIE, settings.CSRF_COOKIE_NAME):
        morsel = client.cookies[name]
        assert morsel["path"] == "/console/", name
        assert morsel["samesite"] == "Strict", name
        assert morsel["httponly"], name


def test_public_pages_stay_cookie_free_even_for_signed_in_staff() -> None:
    created = staff("ana")
    client = Client()
    sign_in(client, created)
    for path in ("/en/", "/en/report/other/", "/en/follow-up/", "/api/v1/openapi.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not response.cookies, path
        assert response["Referrer-Policy"] == "no-referrer", path
    assert client.get(HOME)["Referrer-Policy"] == "same-origin"


def test_console_posts_need_the_csrf_token() -> None:
    created = staff("ana")
    client = Client(enforce_csrf_checks=True)
    assert client.post(SIGN_IN, {"username": "ana", "password": STAFF_PASSWORD}).status_code == 403
    client.get(SIGN_IN)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        SIGN_IN, {"username": "ana", "password": STAFF_PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response["Location"] == CODE
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    code = totp_code(created.device)
    assert client.post(CODE, {"code": code}).status_code == 403
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(CODE, {"code": code, "csrfmiddlewaretoken": token})
    assert response["Location"] == LANDING
    for path in ("/console/sign-out/", "/console/sign-out/everywhere/"):
        refused = client.post(path)
        assert refused.status_code == 403, path
        assert "This form has expired" in refused.content.decode()
    assert client.get(HOME).status_code == 200  # still signed in


def test_a_slip_then_the_right_code_at_once_reaches_the_console() -> None:
    """Regression (issue 15): the right code typed straight after a wrong one was refused."""
    created = staff("ana")
    client = Client()
    password_step(client)
    right = totp_code(created.device)
    slip = client.post(CODE, {"code": f"{(int(right) + 1) % 1_000_000:06d}"})
    assert FAILED in slip.content.decode()
    assert client.post(CODE, {"code": right})["Location"] == LANDING
