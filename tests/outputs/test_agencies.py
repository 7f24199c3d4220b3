"""Agencies in the database: seeded from workflow.toml, managed by administrators, audited."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests import factories
from tests.outputs.helpers import AGENCY, agency_key
from tipline.audit.models import AuditEntry
from tipline.cases import transitions, workflow
from tipline.cases.models import Agency
from tipline.outputs import agencies

pytestmark = pytest.mark.django_db


def _cli(*args: str) -> str:
    out = io.StringIO()
    call_command("agencies", *args, stdout=out)
    return out.getvalue()


def test_every_agency_of_workflow_toml_stays_a_referral_choice() -> None:
    assert set(workflow.load().agencies) <= set(transitions.agency_choices())


def test_an_added_agency_becomes_a_referral_choice_and_is_audited() -> None:
    key = agency_key()
    _cli(
        "add",
        "Provincial Police ICE Unit",
        "--country",
        "ca",
        "--contact",
        "ice@example.org",
        "--key",
        key.recipient,
    )
    row = Agency.objects.get(name="Provincial Police ICE Unit")
    assert (row.country, row.age_recipient) == ("CA", key.recipient)
    assert "Provincial Police ICE Unit" in transitions.agency_choices()
    entry = AuditEntry.objects.get(action="agency.add")
    assert entry.actor == "cli"
    assert entry.details["age_recipient"] == key.recipient
    listed = _cli("list")
    assert "Provincial Police ICE Unit" in listed
    assert key.recipient in listed


def test_the_migration_seeded_workflow_toml_agencies_without_keys() -> None:
    seeded = {a.name: a.age_recipient for a in Agency.objects.all()}
    assert seeded == dict.fromkeys(workflow.load().agencies, "")
    assert "NONE" in _cli("list")


def test_set_key_replaces_the_key_and_records_both() -> None:
    first, second = agency_key(), agency_key()
    _cli("set-key", AGENCY, first.recipient)  # the seeded agency
    _cli("set-key", AGENCY, second.recipient)
    assert Agency.objects.get(name=AGENCY).age_recipient == second.recipient
    entries = AuditEntry.objects.filter(action="agency.set_key").order_by("seq")
    assert [e.details["key"] for e in entries] == [
        [None, first.recipient],
        [first.recipient, second.recipient],
    ]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["add", "   "], "name is required"),
        (["add", "Unit\x1b[31m"], "control characters"),
        (["add", "Unit", "--country", "XX"], "not an ISO 3166-1"),
        (["add", "Unit", "--delivery", "email"], "needs the agency's address"),
        (["add", "Unit", "--email", "not-an-address"], "not an e-mail address"),
        (["add", "Unit", "--key", "age1nope"], "age"),
        (["set-key", "Nobody", "age1nope"], "age"),
        (["add", "U" * 201], "longer than 200"),
    ],
)
def test_bad_agency_input_is_refused_with_the_reason(args: list[str], reason: str) -> None:
    with pytest.raises(CommandError, match=reason):
        _cli(*args)
    assert not AuditEntry.objects.filter(action__startswith="agency.").exists()


def test_a_secret_key_is_refused_without_being_stored_or_logged() -> None:
    secret = agency_key().identity
    _cli("add", "Unit")
    with pytest.raises(CommandError, match="SECRET"):
        _cli("set-key", "Unit", secret)
    assert Agency.objects.get(name="Unit").age_recipient == ""
    assert not AuditEntry.objects.filter(action="agency.set_key").exists()


def test_set_key_for_an_unknown_agency_says_so() -> None:
    with pytest.raises(CommandError, match="no agency named"):
        _cli("set-key", "Nobody", agency_key().recipient)


def test_only_administrators_manage_agencies_from_the_console_side() -> None:
    supervisor = factories.staff("sue", "supervisor").user
    admin = factories.staff("ada", "admin").user
    with pytest.raises(agencies.AgencyError, match="only administrators"):
        agencies.agency_add(actor=supervisor, name="Unit")
    agencies.agency_add(actor=admin, name="Unit")
    assert AuditEntry.objects.get(action="agency.add").actor == "ada"


def test_the_same_name_twice_is_refused() -> None:
    _cli("add", "Unit")
    with pytest.raises(CommandError, match="exists already"):
        _cli("add", "Unit")
