"""Forwarding from the console's side: who may, what travels, and what happens when the partner
cannot be reached (a closed loopback port: a real refused connection, not a mock)."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.exchange.conftest import Configured
from tests.queued import queued
from tipline.cases.policies import NotAllowed
from tipline.cases.states import Channel
from tipline.cases.triage_step import report_triage
from tipline.exchange import actions, document, sending
from tipline.exchange.models import Forwarding, ForwardState
from tipline.exchange.tasks import deliver_forwarding

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_only_the_person_working_it_or_a_supervisor_may_forward(partner: Configured) -> None:
    report = factories.report(category="csam", text="A gallery.").report
    analyst = factories.staff("ana", "analyst").user
    with pytest.raises(NotAllowed):
        actions.forward_create(actor=analyst, report=report, hotline=partner.hotline)
    supervisor = factories.staff("sup", "supervisor").user
    actions.forward_create(actor=supervisor, report=report, hotline=partner.hotline)
    with pytest.raises(actions.ExchangeError):
        actions.forward_create(actor=supervisor, report=report, hotline=partner.hotline)


def test_the_document_carries_urls_hashes_and_classification_never_the_reporter(
    partner: Configured,
) -> None:
    created = factories.report(
        category="sextortion",
        text="Sam here, call me on +44 7700 900123. The gallery is https://files.example/a",
        contact={"name": "Sam Reporter", "email": "sam@example.org"},
        uploads=[factories.upload()],
    )
    factories.run_tasks(created.report)
    supervisor = factories.staff("sup", "supervisor").user
    forwarding = actions.forward_create(
        actor=supervisor, report=created.report, hotline=partner.hotline
    )
    doc = sending.report_document(forwarding)
    parsed = document.parse(document.encode(doc))  # valid against the shipped schema
    body = parsed["report"]
    assert body["urls"] == ["https://files.example/a"]
    assert {h["kind"] for h in body["hashes"]} == {"sha256", "md5", "pdq"}
    assert "files" not in body  # no partner agreement for files
    text = json.dumps(parsed)
    for private in ("Sam", "sam@example.org", "7700", "call me"):
        assert private not in text


def test_files_travel_only_under_a_partner_agreement(partner: Configured) -> None:
    partner.hotline.send_files = True
    partner.hotline.save(update_fields=["send_files"])
    created = factories.report(category="sextortion", text="x", uploads=[factories.upload()])
    supervisor = factories.staff("sup", "supervisor").user
    forwarding = actions.forward_create(
        actor=supervisor, report=created.report, hotline=partner.hotline
    )
    files = sending.report_document(forwarding)["report"]["files"]
    assert [f["sha256"] for f in files] == [factories.upload().sha256]


def test_an_unreachable_partner_leaves_it_queued_for_retry_with_backoff(
    partner: Configured, settings: object
) -> None:
    partner.hotline.base_url = f"http://127.0.0.1:{_closed_port()}"
    partner.hotline.save(update_fields=["base_url"])
    actions.hotline_set_token(actor="t", name=partner.hotline.name, token="tl_" + "b" * 52)
    report = factories.report(category="csam", text="A gallery.").report
    supervisor = factories.staff("sup", "supervisor").user
    forwarding = actions.forward_create(actor=supervisor, report=report, hotline=partner.hotline)
    assert deliver_forwarding.call(str(forwarding.id)) == "failed"
    forwarding.refresh_from_db()
    assert forwarding.state == ForwardState.FAILED
    assert forwarding.attempts == 1
    assert "could not reach" in forwarding.last_error
    # The first delivery's task committed with the forwarding; the retry waits 30 s.
    soon = timezone.now() + timedelta(seconds=20)
    retry = [t for t in queued(deliver_forwarding) if t.run_after and t.run_after > soon]
    assert len(retry) == 1
    assert sending.retry_delay(1).total_seconds() == 30
    assert sending.retry_delay(20).total_seconds() == 6 * 3600


def test_a_report_filed_from_a_forward_links_to_the_senders_urls(partner: Configured) -> None:
    from django.test import Client

    from tests.exchange.client import encode

    doc = partner.side.report("FR-1", ["https://files.example/z"])
    body = encode(doc)
    answer = (
        Client()
        .post(
            "/api/v1/exchange/inbound",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {partner.token}",
            HTTP_TIPLINE_SIGNATURE=partner.side.sign(body),
        )
        .json()
    )
    from tipline.exchange.models import InboundForward

    report = InboundForward.objects.get(pk=answer["reference"]).report
    assert report.channel == Channel.HOTLINE
    report_triage(report.id)
    assert report.identifiers.filter(kind="url").count() == 1
    assert not Forwarding.objects.exists()
