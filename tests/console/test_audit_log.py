"""The audit log page: auditors read who did what, never report content; reading is recorded."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests import factories
from tests.console.helpers import signed_in
from tipline.audit import selectors
from tipline.audit.chain import record, verify
from tipline.audit.models import AuditEntry
from tipline.cases import actions

pytestmark = pytest.mark.django_db


def test_an_auditor_reads_actions_but_no_report_content() -> None:
    created = factories.report("luring", text="MARKER-words of the reporter")
    analyst = factories.staff("ana", "analyst").user
    actions.report_claim(actor=analyst, report=created.report)
    auditor, _ = signed_in("aud", "auditor")
    page = auditor.get("/console/audit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "report.claim" in text
    assert "MARKER" not in text
    assert page["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(actor="aud", action="audit.read").count() == 1
    verify()


def test_filters_page_and_refuse_hostile_values() -> None:
    with transaction.atomic():
        for i in range(selectors.PAGE_SIZE + 20):
            record(actor="bot", action="report.view" if i % 2 else "file.preview", target_id=i)
    admin, _ = signed_in("adm", "admin")
    first = selectors.audit_page(selectors.AuditFilters(action="report."))
    assert all(e.action.startswith("report.") for e in first.entries)
    everything = selectors.audit_page(selectors.AuditFilters(actor="bot"))
    assert everything.next_before is not None
    rest = selectors.audit_page(selectors.AuditFilters(actor="bot"), before=everything.next_before)
    seqs = [e.seq for e in everything.entries + rest.entries]
    assert seqs == sorted(seqs, reverse=True)
    assert len(seqs) == selectors.PAGE_SIZE + 20
    assert admin.get("/console/audit/", {"actor": "bot", "action": "file."}).status_code == 200
    for hostile in ({"action": "<script>"}, {"before": "-1"}, {"before": "x" * 200}):
        assert admin.get("/console/audit/", hostile).status_code == 400, hostile


@pytest.mark.parametrize("role", ["analyst", "supervisor", "liaison"])
def test_other_roles_get_not_found(role: str) -> None:
    client, _ = signed_in(role, role)
    assert client.get("/console/audit/").status_code == 404
    assert "Audit log" not in client.get("/console/").content.decode()
