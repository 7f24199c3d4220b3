"""Staff access to reports and files: one policy per model, one answer for missing or forbidden."""

from __future__ import annotations

import uuid

import pytest

from tests import factories
from tipline.cases.access import ReportNotFound, evidence_for_staff, report_for_staff
from tipline.cases.policies import EvidenceFilePolicy, ReportPolicy
from tipline.staff.models import StaffUser

pytestmark = pytest.mark.django_db

CASEWORK = ["analyst", "supervisor", "admin"]
NO_CONTENT = ["liaison", "auditor"]


def member(role: str, *, active: bool = True) -> StaffUser:
    agency = "Metro Police" if role == "liaison" else ""
    user: StaffUser = factories.staff(f"{role}-{uuid.uuid4().hex[:6]}", role, agency=agency).user
    if not active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return user


def report_with_file() -> tuple[uuid.UUID, uuid.UUID]:
    created = factories.report(uploads=[factories.upload()])
    return created.report.id, created.report.files.get().id


@pytest.mark.parametrize("role", CASEWORK)
def test_casework_roles_open_any_report_and_its_files(role: str) -> None:
    report_id, file_id = report_with_file()
    user = member(role)
    assert report_for_staff(user, report_id).id == report_id
    assert report_for_staff(user, str(report_id)).id == report_id
    assert evidence_for_staff(user, file_id).report_id == report_id
    assert ReportPolicy.visible(user).count() == 1
    assert EvidenceFilePolicy.visible(user).count() == 1


@pytest.mark.parametrize("role", NO_CONTENT)
def test_liaison_and_auditor_open_no_report_and_no_file(role: str) -> None:
    report_id, file_id = report_with_file()
    user = member(role)
    with pytest.raises(ReportNotFound):
        report_for_staff(user, report_id)
    with pytest.raises(ReportNotFound):
        evidence_for_staff(user, file_id)
    assert not ReportPolicy.visible(user).exists()
    assert not EvidenceFilePolicy.visible(user).exists()


def test_a_liaison_sees_only_referred_reports_and_nothing_is_referred_yet() -> None:
    # The rule: reports referred to the liaison's agency. No referral exists in this slice.
    factories.report()
    factories.report(category="child_in_danger")
    assert list(ReportPolicy.visible(member("liaison"))) == []


@pytest.mark.parametrize("role", CASEWORK + NO_CONTENT)
def test_a_disabled_account_opens_nothing(role: str) -> None:
    report_id, file_id = report_with_file()
    user = member(role, active=False)
    with pytest.raises(ReportNotFound):
        report_for_staff(user, report_id)
    with pytest.raises(ReportNotFound):
        evidence_for_staff(user, file_id)


@pytest.mark.parametrize("role", CASEWORK + NO_CONTENT)
@pytest.mark.parametrize(
    "bad_id", ["", "1", "not-a-uuid", "../../etc/passwd", "<script>", "0" * 5000, str(uuid.uuid4())]
)
def test_missing_and_malformed_ids_raise_the_same_error(role: str, bad_id: str) -> None:
    report_with_file()
    user = member(role)
    with pytest.raises(ReportNotFound):
        report_for_staff(user, bad_id)
    with pytest.raises(ReportNotFound):
        evidence_for_staff(user, bad_id)


def test_a_file_id_is_not_a_report_id_and_the_reverse() -> None:
    report_id, file_id = report_with_file()
    user = member("analyst")
    with pytest.raises(ReportNotFound):
        report_for_staff(user, file_id)
    with pytest.raises(ReportNotFound):
        evidence_for_staff(user, report_id)


def test_only_supervisors_and_admins_assign_others() -> None:
    assert [r for r in CASEWORK + NO_CONTENT if ReportPolicy.may_assign_others(member(r))] == [
        "supervisor",
        "admin",
    ]
    assert [r for r in CASEWORK + NO_CONTENT if ReportPolicy.may_claim(member(r))] == CASEWORK
