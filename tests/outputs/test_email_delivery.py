"""Referral packages by e-mail (issue 16): a real SMTP server (aiosmtpd on 127.0.0.1) receives
the package; it verifies with `tipline referral verify` and decrypts with the agency's key. SMTP
down: the delivery stays queued, is retried with backoff by the task worker, never marked sent."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.mailserver import MailServer, closed_port, mail_server  # noqa: F401 - fixture
from tests.outputs import helpers
from tests.queued import Queued, queued
from tipline.audit.chain import verify as verify_chain
from tipline.audit.models import AuditEntry
from tipline.cases.models import Agency
from tipline.crypto import minisign
from tipline.outputs import agencies
from tipline.outputs.email_delivery import (
    referral_email_queue,
    retry_delay,
    send_referral_email,
)
from tipline.outputs.models import EmailDelivery, EmailDeliveryState
from tipline.outputs.package import PackageRefused

pytestmark = pytest.mark.django_db
ADDRESS = "referrals@police.example"


def _email_agency(key: helpers.AgencyKey | None) -> Agency:
    helpers.agency()
    agency = Agency.objects.get(name=helpers.AGENCY)
    settings = agencies.agency_settings(
        name=agency.name,
        country="CA",
        delivery="email",
        email=ADDRESS,
        key=key.recipient if key else "",
    )
    return agencies.agency_edit(actor=None, agency_id=agency.pk, settings=settings)


def _pending_runs() -> list[Queued]:
    return queued(send_referral_email)


def _run_pending() -> list[str]:
    """What the task worker does: run every queued attempt once (ignoring run_after)."""
    states = []
    for run in _pending_runs():
        run.delete()
        states.append(send_referral_email.call(*run.args))
    return states


def test_a_referral_is_mailed_to_the_agency_and_verifies(
    mail_server: MailServer,  # noqa: F811
    tmp_path: Path,
    django_capture_on_commit_callbacks: object,
) -> None:
    key = helpers.agency_key()
    _email_agency(key)
    report = helpers.referred_report()
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        delivery = referral_email_queue(actor="ana", report=report, agency=helpers.AGENCY)
    assert delivery.state == EmailDeliveryState.QUEUED
    assert _run_pending() == ["sent"]
    (message,) = mail_server.messages
    assert message["To"] == ADDRESS
    assert mail_server.envelopes[0][1] == [ADDRESS]
    assert "sextortion" not in message.as_string().lower()  # nothing in clear: package id only
    parts = {p.get_filename(): p.get_content() for p in message.iter_attachments()}
    assert set(parts) == {"package.zip", "package.zip.minisig"}
    package = tmp_path / "package.zip"
    package.write_bytes(parts["package.zip"])
    Path(f"{package}.minisig").write_text(
        parts["package.zip.minisig"]
        if isinstance(parts["package.zip.minisig"], str)
        else parts["package.zip.minisig"].decode()
    )
    pub = tmp_path / "hotline.pub"
    pub.write_text(minisign.public_key_file())
    identity = tmp_path / "agency.key"
    identity.write_text(key.identity + "\n")
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "referral",
            "verify",
            str(package),
            "--pubkey",
            str(pub),
            "--identity",
            str(identity),
            stdout=out,
            stderr=err,
        )
    except CommandError:
        raise AssertionError(err.getvalue() + out.getvalue()) from None
    assert "decrypted 2" in out.getvalue(), err.getvalue()
    delivery.refresh_from_db()
    assert delivery.state == EmailDeliveryState.SENT
    assert delivery.message_id == message["Message-ID"]
    sent = AuditEntry.objects.get(action="referral.email_sent")
    assert sent.details["message_id"] == message["Message-ID"]
    assert AuditEntry.objects.filter(action="referral.email_queued", actor="ana").exists()
    # Queued again: once is enough, nothing more is sent.
    assert referral_email_queue(actor="ana", report=report, agency=helpers.AGENCY).pk == delivery.pk
    assert _run_pending() == []
    verify_chain()


def test_smtp_down_stays_queued_and_is_retried_with_backoff(
    settings: object, django_capture_on_commit_callbacks: object
) -> None:
    _email_agency(helpers.agency_key())
    report = helpers.referred_report()
    down = MailServer()
    down.port = closed_port()
    settings.MAILERS = down.mailer()  # type: ignore[attr-defined]
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        delivery = referral_email_queue(actor="ana", report=report, agency=helpers.AGENCY)
    for attempt in (1, 2, 3):
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
            assert _run_pending() == ["queued"]
        delivery.refresh_from_db()
        assert delivery.state == EmailDeliveryState.QUEUED
        assert delivery.attempts == attempt
        assert delivery.last_error.startswith("SMTP: ")
        assert delivery.sent_at is None
        assert delivery.message_id == ""
        (run,) = _pending_runs()  # the next attempt is waiting, later each time
        assert run.run_after == delivery.next_attempt_at
        waited = delivery.next_attempt_at - run.enqueued_at
        assert abs(waited.total_seconds() - retry_delay(attempt).total_seconds()) < 5
    assert not AuditEntry.objects.filter(action="referral.email_sent").exists()
    # SMTP is back: the next run sends it.
    server = MailServer().start()
    try:
        settings.MAILERS = server.mailer()  # type: ignore[attr-defined]
        assert _run_pending() == ["sent"]
        assert len(server.messages) == 1
    finally:
        server.stop()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (EmailDeliveryState.SENT, 4)


def test_the_backoff_doubles_up_to_six_hours() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(50).total_seconds() == 6 * 3600


def test_an_agency_without_a_key_is_refused_with_the_reason() -> None:
    _email_agency(None)
    report = helpers.referred_report()
    with pytest.raises(PackageRefused, match="no age public key"):
        referral_email_queue(actor="ana", report=report, agency=helpers.AGENCY)
    assert not EmailDelivery.objects.exists()
    refused = AuditEntry.objects.get(action="referral.refused")
    assert "no age public key" in refused.details["reason"]


def test_an_agency_that_downloads_in_the_console_is_not_mailed() -> None:
    helpers.agency(key=helpers.agency_key())
    report = helpers.referred_report()
    with pytest.raises(PackageRefused, match="does not take packages by e-mail"):
        referral_email_queue(actor="ana", report=report, agency=helpers.AGENCY)


def test_a_report_not_referred_there_is_refused() -> None:
    _email_agency(helpers.agency_key())
    report = helpers.referred_report()
    with pytest.raises(PackageRefused, match="not referred"):
        referral_email_queue(actor="ana", report=report, agency="Somewhere Else")


def test_a_key_removed_after_queueing_refuses_at_send_time_and_never_sends(
    mail_server: MailServer,  # noqa: F811
    django_capture_on_commit_callbacks: object,
) -> None:
    agency = _email_agency(helpers.agency_key())
    report = helpers.referred_report()
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        delivery = referral_email_queue(actor="ana", report=report, agency=helpers.AGENCY)
    Agency.objects.filter(pk=agency.pk).update(age_recipient="")
    assert _run_pending() == ["refused"]
    assert mail_server.messages == []
    delivery.refresh_from_db()
    assert delivery.state == EmailDeliveryState.REFUSED
    assert "no age public key" in delivery.last_error


def test_a_package_too_large_for_e_mail_is_refused(
    mail_server: MailServer,  # noqa: F811
    settings: object,
    django_capture_on_commit_callbacks: object,
) -> None:
    settings.TIPLINE_REFERRAL_EMAIL_MAX_BYTES = 1000  # type: ignore[attr-defined]
    _email_agency(helpers.agency_key())
    report = helpers.referred_report()
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        referral_email_queue(actor="ana", report=report, agency=helpers.AGENCY)
    assert _run_pending() == ["refused"]
    assert mail_server.messages == []
    assert "downloads it in the console" in EmailDelivery.objects.get().last_error


def test_the_case_view_sends_and_shows_the_delivery_never_as_sent_while_smtp_is_down(
    settings: object, django_capture_on_commit_callbacks: object
) -> None:
    from tests.console.helpers import signed_in

    _email_agency(helpers.agency_key())
    report = helpers.referred_report()
    down = MailServer()
    down.port = closed_port()
    settings.MAILERS = down.mailer()  # type: ignore[attr-defined]
    client, _user = signed_in("cara", "analyst")
    case = f"/console/reports/{report.id}/"
    page = client.get(case).content.decode()
    assert "Referral by e-mail" in page
    assert "not sent yet" in page
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        sent = client.post(case + "referral-email/", {"agency": helpers.AGENCY})
    assert sent.status_code == 302
    assert EmailDelivery.objects.get().queued_by == "cara"
    assert "queued, not sent" in client.get(case).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        _run_pending()
    page = client.get(case).content.decode()
    assert "queued, not sent" in page
    assert "1 attempt failed (SMTP: " in page
    assert ">sent<" not in page
    # A liaison cannot send; a name that is not a referral of this report is refused with why.
    liaison, _l = signed_in("lia", "liaison", agency=helpers.AGENCY)
    assert liaison.post(case + "referral-email/", {"agency": helpers.AGENCY}).status_code == 403
    for agency in ("Somewhere Else", "x" * 5000, ""):
        refused = client.post(case + "referral-email/", {"agency": agency})
        assert refused.status_code == 403
    assert EmailDelivery.objects.count() == 1


def test_the_command_line_queues_it_and_refuses_with_the_reason() -> None:
    _email_agency(None)
    report = helpers.referred_report()
    with pytest.raises(CommandError, match="no age public key"):
        call_command("referral", "send", str(report.id), "--agency", helpers.AGENCY)
    _email_agency(helpers.agency_key())
    out = io.StringIO()
    call_command("referral", "send", str(report.id), "--agency", helpers.AGENCY, stdout=out)
    assert out.getvalue().strip() == f"queued: {helpers.AGENCY} <{ADDRESS}>"
    assert EmailDelivery.objects.get().queued_by == "cli"
    with pytest.raises(CommandError, match="no report"):
        call_command("referral", "send", "not-a-uuid", "--agency", helpers.AGENCY)
