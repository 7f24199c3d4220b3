"""Webhooks to a real HTTPS receiver on loopback (self-signed certificate, trusted through the
test-only CA setting): signed status changes from real case actions, retries, and refusals.

The receiver checks signatures with its own code, written from the documented scheme
(HMAC-SHA256 over "<t>.<body>", header "Tipline-Signature: t=…,v1=…"), not with ours.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from tests import factories
from tests.partnerapi.conftest import bearer
from tipline.cases import actions as case_actions
from tipline.cases import transitions
from tipline.cases.models import Report
from tipline.cases.states import Outcome
from tipline.partnerapi import webhooks
from tipline.partnerapi.models import DeliveryState, WebhookDelivery
from tipline.partners.models import ApiCredential

pytestmark = pytest.mark.django_db


class Receiver:
    def __init__(self, cert: Path, key: Path, *, keep_alive: bool = False) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        self.peers: list[int] = []  # the client port of each request: one per connection
        # Keep-alive, but end each connection after one answer without saying so (as a server
        # timing an idle connection out would): the sender finds out on its next request.
        self.hang_up_silently = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers.items()), body))
                receiver.peers.append(self.client_address[1])
                status = receiver.answers.pop(0) if receiver.answers else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if receiver.hang_up_silently:
                    self.close_connection = True

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}/hooks/tipline?k=1"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def receiver(certificate: tuple[Path, Path]) -> Iterator[Receiver]:
    server = Receiver(*certificate)
    with override_settings(TIPLINE_WEBHOOK_CA_FILE=str(certificate[0])):
        yield server
    server.server.shutdown()
    server.server.server_close()


def verify(secret: str, headers: dict[str, str], body: bytes, window: int = 300) -> bool:
    """What a partner's receiver does, from the documentation."""
    fields = dict(part.split("=", 1) for part in headers["Tipline-Signature"].split(","))
    signed = fields["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(fields["t"])) <= window
    return fresh and hmac.compare_digest(expected, fields["v1"])


def _file_one(client: Client, token: str) -> Report:
    body = {"reports": [{"reference": "w-1", "category": "other", "what_happened": "Threats."}]}
    answer = client.post(
        "/api/v1/partner/reports", json.dumps(body), content_type="application/json",
        headers=bearer(token),
    )  # fmt: skip
    return Report.objects.get(id=answer.json()["results"][0]["id"])


def _statuses(receiver: Receiver) -> list[tuple[str, str | None]]:
    found = []
    for _headers, body in receiver.received:
        report = json.loads(body)["report"]
        found.append((report["status"], report["outcome"]))
    return found


def test_status_changes_arrive_signed_in_order(
    client: Client, reports_token: str, receiver: Receiver
) -> None:
    credential = ApiCredential.objects.get()
    secret = webhooks.webhook_set(
        actor="tester", credential_id=credential.pk, url=receiver.url
    ).secret
    report = _file_one(client, reports_token)
    webhooks.changes_drain()
    assert webhooks.deliver_due() == 1
    analyst = factories.staff().user
    case_actions.report_claim(actor=analyst, report=report)
    webhooks.changes_drain()
    webhooks.deliver_due()
    report.refresh_from_db()
    transitions.report_decide(actor=analyst, report=report, outcome=Outcome.NOT_ACTIONABLE)
    webhooks.changes_drain()
    webhooks.deliver_due()
    # Nothing new: a drain with no change sends nothing.
    webhooks.changes_drain()
    assert webhooks.deliver_due() == 0
    assert _statuses(receiver) == [
        ("received", None),
        ("in_review", None),
        ("closed", "not_actionable"),
    ]
    for headers, body in receiver.received:
        assert verify(secret, headers, body)
        assert not verify(secret, headers, body + b" ")  # a changed body fails
        assert not verify("wrong" + secret, headers, body)
        assert headers["Tipline-Delivery"] == json.loads(body)["id"]
        assert "what_happened" not in body.decode()
        assert "Threats" not in body.decode()
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"delivered"}


def test_failed_deliveries_back_off_and_are_retried(
    client: Client, reports_token: str, receiver: Receiver
) -> None:
    credential = ApiCredential.objects.get()
    webhooks.webhook_set(actor="tester", credential_id=credential.pk, url=receiver.url)
    receiver.answers = [500, 503]
    _file_one(client, reports_token)
    webhooks.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status == 500
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=25)
    assert webhooks.deliver_due() == 0  # not due yet
    for expected_attempts in (2, 3):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        webhooks.deliver_due()
        delivery.refresh_from_db()
        assert delivery.attempts == expected_attempts
    assert delivery.state == DeliveryState.DELIVERED
    ids = {json.loads(body)["id"] for _h, body in receiver.received}
    assert len(receiver.received) == 3
    assert ids == {str(delivery.id)}
    assert webhooks.backoff(1) < webhooks.backoff(2) < webhooks.backoff(3)
    assert webhooks.backoff(40) == timedelta(hours=6)


def test_an_untrusted_certificate_is_a_failed_attempt(
    client: Client, reports_token: str, receiver: Receiver
) -> None:
    credential = ApiCredential.objects.get()
    webhooks.webhook_set(actor="tester", credential_id=credential.pk, url=receiver.url)
    _file_one(client, reports_token)
    with override_settings(TIPLINE_WEBHOOK_CA_FILE=""):
        webhooks.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1
    assert delivery.state == DeliveryState.PENDING
    assert "CERTIFICATE" in delivery.last_error.upper()
    assert receiver.received == []


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://user:pw@example.org/hook",
        "https://example.org:99999/hook",
        "https:///nohost",
        "https://exa mple.org/",
        "https://example.org/\ud800",
        "ftp://example.org/",
        "https://" + "a" * 600 + ".org/",
    ],
)
def test_webhook_addresses_that_are_refused(reports_token: str, url: str) -> None:
    credential = ApiCredential.objects.get()
    with (
        override_settings(TIPLINE_WEBHOOK_ALLOW_PRIVATE=False),
        pytest.raises(webhooks.WebhookError),
    ):
        webhooks.webhook_set(actor="tester", credential_id=credential.pk, url=url)


def test_an_address_that_turns_private_is_not_called(
    client: Client, reports_token: str, receiver: Receiver
) -> None:
    credential = ApiCredential.objects.get()
    webhooks.webhook_set(actor="tester", credential_id=credential.pk, url=receiver.url)
    _file_one(client, reports_token)
    with override_settings(TIPLINE_WEBHOOK_ALLOW_PRIVATE=False):
        webhooks.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert "private" in delivery.last_error
    assert receiver.received == []


def test_only_live_partner_credentials_get_a_webhook(db: None, receiver: Receiver) -> None:
    with pytest.raises(webhooks.WebhookError):
        webhooks.webhook_set(actor="tester", credential_id=999, url=receiver.url)


def _file_three(client: Client, token: str) -> None:
    items = [{"reference": f"k-{n}", "category": "other", "what_happened": "x"} for n in range(3)]
    answer = client.post(
        "/api/v1/partner/reports", json.dumps({"reports": items}),
        content_type="application/json", headers=bearer(token),
    )  # fmt: skip
    assert answer.status_code == 200


@pytest.mark.parametrize("hang_up", [False, True])
def test_one_run_reuses_one_connection_and_reconnects_when_the_receiver_hung_up(
    client: Client, reports_token: str, certificate: tuple[Path, Path], hang_up: bool
) -> None:
    receiver = Receiver(*certificate, keep_alive=True)
    receiver.hang_up_silently = hang_up
    try:
        with override_settings(TIPLINE_WEBHOOK_CA_FILE=str(certificate[0])):
            credential = ApiCredential.objects.get()
            webhooks.webhook_set(actor="tester", credential_id=credential.pk, url=receiver.url)
            _file_three(client, reports_token)
            webhooks.changes_drain()
            assert webhooks.deliver_due() == 3
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
    assert len(receiver.received) == 3
    # Kept alive: one connection per lane (reports are spread over lanes sent at once);
    # hung up on: a new one for each delivery, nothing lost.
    rows = WebhookDelivery.objects.all()
    lanes = {webhooks._lane(d) for d in rows}
    assert len(set(receiver.peers)) == (3 if hang_up else len(lanes))
    assert {(d.state, d.attempts, d.last_error) for d in rows} == {("delivered", 1, "")}


def test_a_reports_deliveries_queued_together_are_sent_in_order(
    client: Client, reports_token: str, receiver: Receiver
) -> None:
    credential = ApiCredential.objects.get()
    webhooks.webhook_set(actor="tester", credential_id=credential.pk, url=receiver.url)
    report = _file_one(client, reports_token)
    webhooks.changes_drain()
    analyst = factories.staff().user
    case_actions.report_claim(actor=analyst, report=report)
    webhooks.changes_drain()
    report.refresh_from_db()
    transitions.report_decide(actor=analyst, report=report, outcome=Outcome.NOT_ACTIONABLE)
    webhooks.changes_drain()
    assert webhooks.deliver_due() == 3  # one run, sent at once on the report's lane
    assert _statuses(receiver) == [
        ("received", None),
        ("in_review", None),
        ("closed", "not_actionable"),
    ]


def test_a_sender_keeps_its_connections_from_one_run_to_the_next(
    client: Client, reports_token: str, certificate: tuple[Path, Path]
) -> None:
    receiver = Receiver(*certificate, keep_alive=True)
    try:
        with override_settings(TIPLINE_WEBHOOK_CA_FILE=str(certificate[0])):
            credential = ApiCredential.objects.get()
            webhooks.webhook_set(actor="tester", credential_id=credential.pk, url=receiver.url)
            _file_three(client, reports_token)
            analyst = factories.staff().user
            with webhooks.Sender() as sender:
                webhooks.changes_drain()
                assert webhooks.deliver_due(sender=sender) == 3
                for report in Report.objects.all():
                    case_actions.report_claim(actor=analyst, report=report)
                webhooks.changes_drain()  # three changes in one drain: one delivery each
                assert webhooks.deliver_due(sender=sender) == 3
                webhooks.changes_drain()
                assert webhooks.deliver_due(sender=sender) == 0  # nothing announced twice
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
    assert sorted(_statuses(receiver)) == [("in_review", None)] * 3 + [("received", None)] * 3
    lanes = {webhooks._lane(d) for d in WebhookDelivery.objects.all()}
    assert len(set(receiver.peers)) == len(lanes)  # the second run opened no connection
    assert {(d.state, d.attempts) for d in WebhookDelivery.objects.all()} == {("delivered", 1)}


def test_a_kept_sender_follows_a_replaced_url(
    client: Client, reports_token: str, certificate: tuple[Path, Path]
) -> None:
    first, second = Receiver(*certificate, keep_alive=True), Receiver(*certificate, keep_alive=True)
    try:
        with override_settings(TIPLINE_WEBHOOK_CA_FILE=str(certificate[0])):
            credential = ApiCredential.objects.get()
            webhooks.webhook_set(actor="tester", credential_id=credential.pk, url=first.url)
            report = _file_one(client, reports_token)
            with webhooks.Sender() as sender:
                webhooks.changes_drain()
                assert webhooks.deliver_due(sender=sender) == 1
                webhooks.webhook_set(actor="tester", credential_id=credential.pk, url=second.url)
                case_actions.report_claim(actor=factories.staff().user, report=report)
                webhooks.changes_drain()
                assert webhooks.deliver_due(sender=sender) == 1
    finally:
        for receiver in (first, second):
            receiver.server.shutdown()
            receiver.server.server_close()
    assert _statuses(first) == [("received", None)]
    assert _statuses(second) == [("in_review", None)]
