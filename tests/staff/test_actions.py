"""Staff actions: accounts, the two sign-in steps, lockout without addresses, and their audit."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.conf import LazySettings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.utils import timezone

from tests.factories import STAFF_PASSWORD, staff, totp_code
from tipline.audit.chain import verify
from tipline.audit.models import AuditEntry
from tipline.staff import actions
from tipline.staff.models import StaffUser

pytestmark = pytest.mark.django_db


def actions_for(username: str) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_type="staff", target_id=username).values_list(
            "action", flat=True
        )
    )


def fail_password(username: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(actions.SignInFailed):
            actions.sign_in_password(username=username, password="not the password at all")


# --- accounts -------------------------------------------------------------------------------------


def test_create_makes_an_account_and_an_unconfirmed_device_and_audits_it() -> None:
    created = staff("lee", "liaison", agency="Metro Police", confirmed=False)
    user = StaffUser.objects.get(username="lee")
    assert user.role == "liaison"
    assert user.agency == "Metro Police"
    assert user.check_password(STAFF_PASSWORD)
    assert user.password != STAFF_PASSWORD
    assert created.device.confirmed is False
    entry = AuditEntry.objects.get(action="staff.create")
    assert (entry.actor, entry.target_id) == ("cli", "lee")
    assert entry.details == {"role": "liaison", "agency": "Metro Police"}
    verify()


@pytest.mark.parametrize(
    ("username", "role", "password", "agency", "message"),
    [
        ("ana", "analyst", "short", "", "too short"),
        ("ana", "analyst", "password1234", "", "too common"),
        ("ana", "analyst", "123456789012345", "", "entirely numeric"),
        ("riverlantern", "analyst", "riverlantern1", "", "too similar"),
        ("lee", "liaison", STAFF_PASSWORD, "", "agency"),
        ("ana", "janitor", STAFF_PASSWORD, "", "Unknown role"),
        ("ana smith!", "analyst", STAFF_PASSWORD, "", "valid username"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(
    username: str, role: str, password: str, agency: str, message: str
) -> None:
    with pytest.raises(actions.InvalidStaffInput) as refused:
        actions.staff_create(
            actor=None, username=username, role=role, password=password, agency=agency
        )
    assert message in " ".join(refused.value.messages)
    assert not StaffUser.objects.exists()
    assert not AuditEntry.objects.exists()


def test_create_refuses_a_taken_username() -> None:
    staff("ana")
    with pytest.raises(actions.InvalidStaffInput):
        staff("ana")
    assert StaffUser.objects.count() == 1


def test_disable_ends_sessions_and_is_audited() -> None:
    staff("ana")
    admin = staff("ada", "admin").user
    actions.staff_disable(actor=admin, username="ana")
    user = StaffUser.objects.get(username="ana")
    assert user.is_active is False
    assert user.session_epoch == 1
    entry = AuditEntry.objects.get(action="staff.disable")
    assert (entry.actor, entry.target_id) == ("ada", "ana")


def test_disable_and_set_role_refuse_unknown_accounts() -> None:
    with pytest.raises(actions.StaffNotFound):
        actions.staff_disable(actor=None, username="nobody")
    with pytest.raises(actions.StaffNotFound):
        actions.staff_set_role(actor=None, username="nobody", role="admin")


def test_set_role_records_the_change_and_a_liaison_needs_an_agency() -> None:
    staff("ana")
    actions.staff_set_role(actor=None, username="ana", role="supervisor")
    assert StaffUser.objects.get(username="ana").role == "supervisor"
    assert AuditEntry.objects.get(action="staff.set_role").details == {
        "from": "analyst",
        "to": "supervisor",
        "agency": "",
    }
    with pytest.raises(actions.InvalidStaffInput):
        actions.staff_set_role(actor=None, username="ana", role="liaison")
    actions.staff_set_role(actor=None, username="ana", role="liaison", agency="Border Agency")
    user = StaffUser.objects.get(username="ana")
    assert (user.role, user.agency) == ("liaison", "Border Agency")


# --- signing in -----------------------------------------------------------------------------------


def test_password_then_code_signs_in_and_resets_the_counters() -> None:
    created = staff("ana")
    fail_password("ana", 3)
    user = actions.sign_in_password(username="ana", password=STAFF_PASSWORD)
    assert user.failed_sign_ins == 3  # the password alone is not a sign-in
    user, device = actions.sign_in_code(user_id=user.pk, token=totp_code(created.device))
    assert device.pk == created.device.pk
    user.refresh_from_db()
    assert (user.failed_sign_ins, user.lockouts, user.locked_until) == (0, 0, None)
    assert actions_for("ana")[-1] == "auth.sign_in"


def test_five_failures_lock_the_account_even_against_the_right_password() -> None:
    staff("ana")
    fail_password("ana", 4)
    assert StaffUser.objects.get(username="ana").locked_until is None
    fail_password("ana")
    user = StaffUser.objects.get(username="ana")
    assert user.locked_until is not None
    remaining = user.locked_until - timezone.now()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)
    assert actions_for("ana").count("auth.sign_in_failed") == 5
    locked = AuditEntry.objects.get(action="auth.locked")
    assert locked.details == {"minutes": 15}
    with pytest.raises(actions.SignInFailed):
        actions.sign_in_password(username="ana", password=STAFF_PASSWORD)
    assert AuditEntry.objects.filter(action="auth.sign_in_failed").last().details == {  # type: ignore[union-attr]
        "reason": "locked"
    }


def test_the_lock_ends_when_its_time_has_passed() -> None:
    staff("ana")
    fail_password("ana", 5)
    StaffUser.objects.filter(username="ana").update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    assert actions.sign_in_password(username="ana", password=STAFF_PASSWORD).username == "ana"


def test_each_further_lock_lasts_twice_as_long_up_to_a_day() -> None:
    staff("ana")
    minutes = []
    for _ in range(9):
        fail_password("ana", 5)
        minutes.append(AuditEntry.objects.filter(action="auth.locked").last().details["minutes"])  # type: ignore[union-attr]
        StaffUser.objects.filter(username="ana").update(
            locked_until=timezone.now() - timedelta(seconds=1)
        )
    assert minutes == [15, 30, 60, 120, 240, 480, 960, 1440, 1440]


def test_a_wrong_code_counts_as_a_failure_and_locks_too() -> None:
    created = staff("ana")
    user = actions.sign_in_password(username="ana", password=STAFF_PASSWORD)
    right = totp_code(created.device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(actions.SignInFailed):
            actions.sign_in_code(user_id=user.pk, token=wrong)
    user.refresh_from_db()
    assert user.locked_until is not None
    created.device.refresh_from_db()
    created.device.throttle_reset()  # django-otp's own per-device delay is not under test here
    with pytest.raises(actions.SignInFailed):
        actions.sign_in_code(user_id=user.pk, token=right)


def test_a_code_is_accepted_only_once() -> None:
    created = staff("ana")
    code = totp_code(created.device)
    actions.sign_in_code(user_id=created.user.pk, token=code)
    with pytest.raises(actions.SignInFailed):
        actions.sign_in_code(user_id=created.user.pk, token=code)
    created.device.refresh_from_db()
    created.device.throttle_reset()
    actions.sign_in_code(user_id=created.user.pk, token=totp_code(created.device, steps_ahead=1))


def test_an_unconfirmed_device_does_not_sign_in_until_enrolment_confirms_it() -> None:
    created = staff("ana", confirmed=False)
    code = totp_code(created.device)
    with pytest.raises(actions.SignInFailed):
        actions.sign_in_code(user_id=created.user.pk, token=code)
    created.device.refresh_from_db()
    created.device.throttle_reset()
    actions.totp_enrol_confirm(user_id=created.user.pk, token=code)
    created.device.refresh_from_db()
    assert created.device.confirmed
    assert actions_for("ana")[-2:] == ["auth.totp_enrolled", "auth.sign_in"]


def test_enrolment_issues_a_device_when_the_account_has_none() -> None:
    created = staff("ana", confirmed=False)
    created.device.delete()
    device = actions.totp_enrolment_device(user=created.user)
    assert device.confirmed is False
    assert actions.totp_enrolment_device(user=created.user).pk == device.pk
    assert actions_for("ana").count("auth.totp_issued") == 1


def test_disabled_accounts_cannot_sign_in() -> None:
    created = staff("ana")
    actions.staff_disable(actor=None, username="ana")
    with pytest.raises(actions.SignInFailed):
        actions.sign_in_password(username="ana", password=STAFF_PASSWORD)
    with pytest.raises(actions.SignInFailed):
        actions.sign_in_code(user_id=created.user.pk, token=totp_code(created.device))


def test_unknown_accounts_are_audited_without_what_was_typed() -> None:
    with pytest.raises(actions.SignInFailed):
        actions.sign_in_password(username="hunter2-typed-here", password="whatever")
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target_id) == ("anonymous", "auth.sign_in_failed", "")
    assert "hunter2" not in json.dumps(entry.details)


class CountingHasher(MD5PasswordHasher):
    algorithm = "counting_md5"
    runs: ClassVar[list[str]] = []

    def verify(self, password: str, encoded: str) -> bool:
        CountingHasher.runs.append(password)
        return super().verify(password, encoded)


def test_every_refusal_costs_one_run_of_the_password_hasher(settings: LazySettings) -> None:
    settings.PASSWORD_HASHERS = ["tests.staff.test_actions.CountingHasher"]
    actions._dummy_hash.cache_clear()
    try:
        staff("ana")
        staff("bo")
        actions.staff_disable(actor=None, username="bo")
        StaffUser.objects.filter(username="ana").update(
            locked_until=timezone.now() + timedelta(minutes=5)
        )
        staff("cy")
        for username, password in [
            ("nobody", STAFF_PASSWORD),  # unknown
            ("cy", "wrong password here"),  # wrong
            ("ana", STAFF_PASSWORD),  # locked
            ("bo", STAFF_PASSWORD),  # disabled
        ]:
            CountingHasher.runs.clear()
            with pytest.raises(actions.SignInFailed):
                actions.sign_in_password(username=username, password=password)
            assert len(CountingHasher.runs) == 1, username
    finally:
        actions._dummy_hash.cache_clear()


def test_sign_out_everywhere_bumps_the_epoch() -> None:
    user = staff("ana").user
    actions.sign_out_everywhere(user=user)
    actions.sign_out(user=user)
    user.refresh_from_db()
    assert user.session_epoch == 1
    assert actions_for("ana")[-2:] == ["auth.sign_out_everywhere", "auth.sign_out"]


def test_no_password_code_or_secret_reaches_the_audit_log() -> None:
    created = staff("ana", confirmed=False)
    fail_password("ana", 2)
    code = totp_code(created.device)
    actions.totp_enrol_confirm(user_id=created.user.pk, token=code)
    actions.staff_set_role(actor=None, username="ana", role="admin")
    actions.staff_disable(actor=None, username="ana")
    dumped = json.dumps(
        list(AuditEntry.objects.values("actor", "action", "target_id", "details")), default=str
    )
    secrets: list[Any] = [STAFF_PASSWORD, "not the password", code, created.device.key]
    for secret in secrets:
        assert secret not in dumped
    verify()


def test_the_password_alone_cannot_enrol_a_second_authenticator() -> None:
    """Regression: enrolment must never replace a working second factor (2FA bypass)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    created = staff("ana")  # has a confirmed device
    rogue = TOTPDevice.objects.create(user=created.user, name="rogue", confirmed=False)
    with pytest.raises(actions.SignInFailed):
        actions.totp_enrol_confirm(user_id=created.user.pk, token=totp_code(rogue))
    rogue.refresh_from_db()
    assert rogue.confirmed is False
    assert actions_for("ana")[-1] == "auth.sign_in_failed"


def test_a_wrong_code_followed_at_once_by_the_right_one_signs_in() -> None:
    """Regression (issue 15): django-otp's own per-device delay (1 s after one failure, doubling
    after each) refused the right code typed straight after a mistyped one, with the same generic
    message. The account lockout above is the only limit on guessing codes."""
    created = staff("ana")
    user = actions.sign_in_password(username="ana", password=STAFF_PASSWORD)
    right = totp_code(created.device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(3):  # three slips leave django-otp asking for a 4 s pause
        with pytest.raises(actions.SignInFailed):
            actions.sign_in_code(user_id=user.pk, token=wrong)
    signed, _device = actions.sign_in_code(user_id=user.pk, token=right)
    assert signed.pk == user.pk
    assert actions_for("ana")[-1] == "auth.sign_in"
