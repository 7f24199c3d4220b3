"""The learned triage model's switch in the console (issue 20): administrators only, every switch
audited, nothing but off / shadow / on accepted."""

from __future__ import annotations

import pytest

from tests.console.helpers import signed_in
from tipline.audit.models import AuditEntry
from tipline.cases import triage_model

pytestmark = pytest.mark.django_db
PAGE = "/console/triage-model/"


def test_an_administrator_switches_the_model_on_and_it_is_audited() -> None:
    admin = signed_in("root", "admin")[0]
    page = admin.get(PAGE)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert "No model has been trained yet" in page.content.decode()
    assert triage_model.model_mode() == "shadow"
    answer = admin.post(PAGE + "mode/", {"mode": "on"})
    assert answer.status_code == 302
    assert answer["Location"] == PAGE + "?saved=1"
    assert triage_model.model_mode() == "on"
    entry = AuditEntry.objects.filter(action="triage.model_mode").latest("seq")
    assert entry.actor == "root"
    assert "The setting was saved." in admin.get(answer["Location"]).content.decode()


@pytest.mark.parametrize("mode", ["", "ON", "maybe", "on\x00", "x" * 5000])
def test_anything_but_the_three_settings_is_refused(mode: str) -> None:
    admin = signed_in("root", "admin")[0]
    answer = admin.post(PAGE + "mode/", {"mode": mode})
    assert answer.status_code == 400
    assert triage_model.model_mode() == "shadow"
    assert not AuditEntry.objects.filter(action="triage.model_mode").exists()


@pytest.mark.parametrize("role", ["analyst", "supervisor", "auditor", "liaison"])
def test_no_one_else_sees_or_switches_it(role: str) -> None:
    client = signed_in("someone", role)[0]
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE + "mode/", {"mode": "on"}).status_code == 404
    assert triage_model.model_mode() == "shadow"
    assert "Triage model" not in client.get("/console/").content.decode()
