"""The agency list in the console (issue 16): administrators only; add and edit, each change
audited; hostile values refused with the reason and nothing saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.console.helpers import signed_in
from tests.outputs.helpers import AGENCY, agency_key, referred_report
from tipline.audit.models import AuditEntry
from tipline.cases.models import Agency

pytestmark = pytest.mark.django_db


def _form(**changes: Any) -> dict[str, Any]:
    form = {
        "name": "Coastal Police Online Harms Unit",
        "country": "IE",
        "contact": "Duty desk, +353 1 000 0000",
        "email": "referrals@coastal.example",
        "key": agency_key().recipient,
        "delivery": "email",
        "api_url": "",
        "api_credential": "",
        "active": "on",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


@pytest.fixture
def admin() -> Client:
    return signed_in("root", "admin")[0]


def test_an_administrator_adds_an_agency_and_it_is_audited(admin: Client) -> None:
    form = _form()
    answer = admin.post("/console/agencies/add/", form)
    assert answer.status_code == 302
    assert answer["Location"] == "/console/agencies/?saved=1"
    agency = Agency.objects.get(name=form["name"])
    assert (agency.country, agency.email, agency.delivery) == ("IE", form["email"], "email")
    assert agency.age_recipient == form["key"]
    entry = AuditEntry.objects.filter(action="agency.add").get()
    assert entry.actor == "root"
    assert entry.details["age_recipient"] == form["key"]
    page = admin.get("/console/agencies/?saved=1").content.decode()
    assert "The agency was saved." in page
    assert form["name"] in page
    assert page.count('href="/console/agencies/') >= 1


def test_an_administrator_edits_an_agency_each_change_audited(admin: Client) -> None:
    admin.post("/console/agencies/add/", _form(delivery="console", email=""))
    agency = Agency.objects.get(name="Coastal Police Online Harms Unit")
    page = admin.get(f"/console/agencies/{agency.pk}/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    new_key = agency_key().recipient
    answer = admin.post(
        f"/console/agencies/{agency.pk}/edit/",
        _form(
            delivery="api",
            email="",
            key=new_key,
            api_url="https://report.cybertip.example/ispws",
            api_credential="TIPLINE_CYBERTIP_PASSWORD",
            active=None,  # unticked
        ),
    )
    assert answer.status_code == 302
    agency.refresh_from_db()
    assert agency.delivery == "api"
    assert agency.api_url == "https://report.cybertip.example/ispws"
    assert agency.api_credential == "TIPLINE_CYBERTIP_PASSWORD"
    assert agency.age_recipient == new_key
    assert agency.active is False
    entry = AuditEntry.objects.filter(action="agency.edit").get()
    changed = entry.details["changed"]
    assert changed["delivery"] == ["console", "api"]
    assert changed["age_recipient"][1] == new_key
    assert changed["active"] == [True, False]
    assert "name" not in changed
    listing = admin.get("/console/agencies/").content.decode()
    assert "https://report.cybertip.example/ispws" in listing
    # Saving again without a change writes nothing.
    admin.post(
        f"/console/agencies/{agency.pk}/edit/",
        {
            **_form(
                delivery="api",
                email="",
                key=new_key,
                api_url="https://report.cybertip.example/ispws",
                api_credential="TIPLINE_CYBERTIP_PASSWORD",
                active=None,
            )
        },
    )
    assert AuditEntry.objects.filter(action="agency.edit").count() == 1


def test_an_agency_with_referrals_cannot_be_renamed(admin: Client) -> None:
    report = referred_report(AGENCY)
    agency = Agency.objects.get(name=AGENCY)
    answer = admin.post(f"/console/agencies/{agency.pk}/edit/", _form(name="Renamed Police"))
    assert answer.status_code == 400
    assert "cannot be renamed" in answer.content.decode()
    assert Agency.objects.filter(name=AGENCY).exists()
    assert report.referrals.get().agency == AGENCY


LONG = "x" * 5000
HOSTILE = [
    ({"key": "age1notakey"}, "age"),
    ({"key": "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"}, "age"),
    ({"key": LONG}, "200"),
    ({"email": "referrals@coastal.example\r\nBcc: everyone@example.org"}, "control"),
    ({"email": "referrals@coastal.example\nSubject: hi"}, "control"),
    ({"email": "not an address"}, "not an e-mail address"),
    ({"email": "", "delivery": "email"}, "needs the agency"),
    ({"name": LONG}, "200"),
    ({"name": ""}, "Name"),
    ({"name": "Police\x00Unit"}, "Null characters"),
    ({"name": "Police\u202eUnit"}, "control"),
    ({"contact": LONG}, "500"),
    ({"country": "XX"}, "Country"),
    ({"delivery": "pigeon"}, "Delivery"),
    ({"delivery": "api", "email": ""}, "API address and the credential"),
    ({"delivery": "api", "api_url": "http://cybertip.example/", "api_credential": "X"}, "https"),
    ({"delivery": "api", "api_url": "javascript:alert(1)", "api_credential": "X"}, "web address"),
    (
        {"delivery": "api", "api_url": "https://u:p@cybertip.example/", "api_credential": "X"},
        "credentials",
    ),
    (
        {"delivery": "api", "api_url": "https://cybertip.example/", "api_credential": "hunter 2!"},
        "never the password",
    ),
    ({"api_url": LONG}, "500"),
]


@pytest.mark.parametrize(("changes", "reason"), HOSTILE)
def test_hostile_values_are_refused_with_the_reason(
    admin: Client, changes: dict[str, str], reason: str
) -> None:
    answer = admin.post("/console/agencies/add/", _form(**changes))
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "Nothing was saved" in page
    assert reason in page
    assert not Agency.objects.filter(name="Coastal Police Online Harms Unit").exists()
    assert not AuditEntry.objects.filter(action="agency.add").exists()


def test_the_same_refusals_on_edit(admin: Client) -> None:
    admin.post("/console/agencies/add/", _form())
    agency = Agency.objects.get(name="Coastal Police Online Harms Unit")
    for changes, reason in HOSTILE:
        answer = admin.post(f"/console/agencies/{agency.pk}/edit/", _form(**changes))
        assert answer.status_code == 400, changes
        assert reason in answer.content.decode(), changes
    agency.refresh_from_db()
    assert agency.email == "referrals@coastal.example"
    assert not AuditEntry.objects.filter(action="agency.edit").exists()


@pytest.mark.parametrize("role", ["analyst", "supervisor", "auditor", "liaison"])
def test_only_administrators_see_or_change_agencies(role: str) -> None:
    client, _user = signed_in(f"who-{role}", role)
    agency = Agency.objects.order_by("pk").first()
    assert agency is not None  # seeded from workflow.toml
    for method, path in (
        ("GET", "/console/agencies/"),
        ("POST", "/console/agencies/add/"),
        ("GET", f"/console/agencies/{agency.pk}/"),
        ("POST", f"/console/agencies/{agency.pk}/edit/"),
        ("GET", "/console/agencies/999999/"),
    ):
        answer = client.generic(
            method,
            path,
            "name=Taken+Over&delivery=console",
            content_type="application/x-www-form-urlencoded",
        )
        assert answer.status_code == 404, (role, path)
    assert not Agency.objects.filter(name="Taken Over").exists()
    assert "/console/agencies/" not in client.get("/console/").content.decode()


def test_administrators_find_the_agencies_in_the_navigation(admin: Client) -> None:
    assert 'href="/console/agencies/"' in admin.get("/console/").content.decode()
    assert admin.get("/console/agencies/999999/").status_code == 404
