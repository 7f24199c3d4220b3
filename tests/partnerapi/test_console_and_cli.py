"""The console's webhook delivery log (administrators) and `tipline partners webhook`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.console.helpers import signed_in
from tipline.partnerapi import webhooks
from tipline.partnerapi.models import PartnerReport, WebhookDelivery, WebhookEndpoint
from tipline.partners.models import ApiCredential

pytestmark = pytest.mark.django_db


def test_the_cli_sets_a_webhook_and_prints_the_secret_once(reports_token: str) -> None:
    credential = ApiCredential.objects.get()
    out = StringIO()
    call_command(
        "partners", "webhook", "set", "--credential", str(credential.pk),
        "--url", "https://localhost:8443/hook", stdout=out,
    )  # fmt: skip
    secret = out.getvalue().splitlines()[-1]
    endpoint = WebhookEndpoint.objects.get()
    assert len(secret) == 64
    assert secret not in endpoint.secret_nonce
    with override_settings(TIPLINE_WEBHOOK_ALLOW_PRIVATE=False), pytest.raises(CommandError):
        call_command(
            "partners", "webhook", "set", "--credential", str(credential.pk),
            "--url", "https://127.0.0.1/hook",
        )  # fmt: skip
    call_command("partners", "webhook", "remove", "--credential", str(credential.pk))
    assert not WebhookEndpoint.objects.exists()
    with pytest.raises(CommandError):
        call_command("partners", "webhook", "remove", "--credential", str(credential.pk))


def test_the_delivery_log_is_for_administrators(client: object, reports_token: str) -> None:
    from tests import factories
    from tipline.cases.states import ReportState

    credential = ApiCredential.objects.get()
    webhooks.webhook_set(actor="t", credential_id=credential.pk, url="https://localhost:9/x")
    report = factories.report().report
    link = PartnerReport.objects.create(credential=credential, reference="ref-9", report=report)
    webhooks.status_queue(link=link, state=ReportState.NEW, outcome="")
    webhooks.deliver_due()  # nothing listens on port 9: a failed attempt, logged
    admin, _user = signed_in("root", "admin")
    page = admin.get("/console/partners/webhooks/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Example Platform" in text
    assert "ref-9" in text
    assert "https://localhost:9/x" in text
    assert WebhookDelivery.objects.get().attempts == 1
    analyst, _user = signed_in("ana", "analyst")
    assert analyst.get("/console/partners/webhooks/").status_code == 404
