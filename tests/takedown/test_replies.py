"""Providers' replies by IMAP against a real Dovecot on 127.0.0.1 (``imap_server.py``).

A reply quoting a sent notice's Message-ID marks it acknowledged, audited as the system with the
mailbox as source. Hostile replies (huge, malformed, header bombs, unknown ids, non-UTF-8) are
bounded, counted and leave every notice as it was.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import LazySettings as SettingsWrapper
from django.utils import timezone

from tests import factories
from tests.takedown.imap_server import DovecotServer
from tests.takedown.servers import HttpServer, SmtpServer
from tests.takedown.test_notices import _decide_notice, hosted  # noqa: F401 (fixture)
from tipline.audit.chain import verify
from tipline.audit.models import AuditEntry
from tipline.takedown import config, replies, tasks
from tipline.takedown.models import Notice, NoticeKind, NoticeState

pytestmark = pytest.mark.django_db


def _sent_notice(message_id: str = "", reminder_id: str = "") -> Notice:
    report = factories.report("csam", details={"urls": ["http://pics.example/f/1"]}).report
    now = timezone.now()
    return Notice.objects.create(
        report=report,
        provider="Pics Host GmbH",
        abuse_email="abuse@pics-host.example",
        kind=NoticeKind.XARF,
        state=NoticeState.SENT,
        created_at=now,
        sent_at=now,
        message_id=message_id or f"<{uuid.uuid4().hex}@hotline.test>",
        reminder_message_id=reminder_id,
    )


def _reply(*headers: bytes, body: bytes = b"Thank you, we are looking into it.\r\n") -> bytes:
    base = [
        b"From: Abuse Desk <abuse@pics-host.example>",
        b"To: notices@hotline.test",
        b"Subject: Re: Notice",
        b"Message-ID: <" + uuid.uuid4().hex.encode() + b"@pics-host.example>",
    ]
    return b"\r\n".join([*base, *headers]) + b"\r\n\r\n" + body


def _state(notice: Notice) -> str:
    notice.refresh_from_db()
    return str(notice.state)


def test_a_reply_to_a_notice_sent_by_smtp_acknowledges_it(
    hosted: dict[str, str],  # noqa: F811
    smtp_server: SmtpServer,
    web_server: HttpServer,
    imap_server: DovecotServer,
    imap_settings: SettingsWrapper,
) -> None:
    report = factories.report("csam", details={"urls": [hosted["one"]]}).report
    _decide_notice(report, category_values={"legal_assessment": "baseline"})
    tasks.prepare_notices.call(str(report.id))
    notice = Notice.objects.get(report=report)
    tasks.send_notice.call(str(notice.id))
    [sent] = smtp_server.inbox.messages
    imap_server.deliver(_reply(b"In-Reply-To: " + sent["Message-ID"].encode()))

    assert tasks.replies_check.call() == {
        "acknowledged": 1,
        "already": 0,
        "unmatched": 0,
        "too_large": 0,
        "malformed": 0,
    }
    assert _state(notice) == NoticeState.ACKNOWLEDGED
    [entry] = AuditEntry.objects.filter(action="takedown.acknowledged")
    assert entry.actor == "system"
    assert entry.details["source"] == f"imap:notices@127.0.0.1:{imap_server.port}/INBOX"
    assert "pics-host" not in str(entry.details)  # nothing of the reply itself
    assert imap_server.unseen() == 0
    # The next run finds nothing new; the notice stays acknowledged.
    assert tasks.replies_check.call()["acknowledged"] == 0
    verify()


def test_references_and_the_reminders_message_id_match_too(
    imap_server: DovecotServer, imap_settings: SettingsWrapper
) -> None:
    first = _sent_notice()
    second = _sent_notice(reminder_id="<reminder-7@hotline.test>")
    imap_server.deliver(_reply(b"References: <x@elsewhere> " + first.message_id.encode()))
    imap_server.deliver(_reply(b"In-Reply-To: <reminder-7@hotline.test>"))
    counts = replies.replies_run(config.imap_load())
    assert counts["acknowledged"] == 2
    assert (_state(first), _state(second)) == (NoticeState.ACKNOWLEDGED,) * 2


def test_a_reply_quoting_an_unknown_message_id_changes_nothing(
    imap_server: DovecotServer, imap_settings: SettingsWrapper
) -> None:
    notice = _sent_notice()
    imap_server.deliver(_reply(b"In-Reply-To: <not-ours@hotline.test>"))
    imap_server.deliver(_reply())  # no In-Reply-To at all
    counts = replies.replies_run(config.imap_load())
    assert counts["unmatched"] == 2
    assert _state(notice) == NoticeState.SENT
    assert not AuditEntry.objects.filter(action="takedown.acknowledged").exists()


def test_a_50_mb_reply_is_skipped_unread(
    imap_server: DovecotServer, imap_settings: SettingsWrapper
) -> None:
    notice = _sent_notice()
    huge = _reply(
        b"In-Reply-To: " + notice.message_id.encode(),
        body=(b"A" * 998 + b"\r\n") * (50 * 1024 * 1024 // 1000),
    )
    assert len(huge) > 50_000_000
    imap_server.deliver(huge)
    counts = replies.replies_run(config.imap_load())
    assert (counts["too_large"], counts["acknowledged"]) == (1, 0)
    assert _state(notice) == NoticeState.SENT  # a reply too large is not read, even its headers
    assert imap_server.unseen() == 0  # and not looked at again


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(b"\x00\xff\xfe garbage without any header\r\n", id="not-a-message"),
        pytest.param(
            b"In-Reply-To: =?utf-8?b?!!!broken?=\r\nContent-Type: multipart/mixed; boundary=\r\n"
            b"\r\n--\r\n--\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@@\r\n",
            id="broken-mime",
        ),
        pytest.param(
            b"In-Reply-To: <caf\xe9-\xff@hotline.test>\r\nSubject: R\xe9ponse \x80\x81\r\n\r\nx",
            id="non-utf8-headers",
        ),
        pytest.param(
            b"".join(b"References: <r%d@x>\r\n" % i for i in range(20_000)) + b"\r\nx",
            id="header-bomb-many-fields",
        ),
        pytest.param(
            b"References: " + b"<" * 400_000 + b"\r\n\r\nx",
            id="header-bomb-one-long-field",
        ),
    ],
)
def test_malformed_replies_are_bounded_and_change_nothing(
    message: bytes, imap_server: DovecotServer, imap_settings: SettingsWrapper
) -> None:
    notice = _sent_notice()
    imap_server.deliver(message)
    counts = replies.replies_run(config.imap_load())
    assert sum(counts.values()) == 1
    assert counts["acknowledged"] == 0
    assert _state(notice) == NoticeState.SENT
    assert imap_server.unseen() == 0


def test_non_utf8_headers_still_match_an_id_they_quote(
    imap_server: DovecotServer, imap_settings: SettingsWrapper
) -> None:
    notice = _sent_notice()
    imap_server.deliver(
        _reply(b"Subject: R\xe9ponse \xff", b"In-Reply-To: " + notice.message_id.encode())
    )
    assert replies.replies_run(config.imap_load())["acknowledged"] == 1
    assert _state(notice) == NoticeState.ACKNOWLEDGED


def test_an_acknowledged_or_removed_notice_is_left_as_it_is(
    imap_server: DovecotServer, imap_settings: SettingsWrapper
) -> None:
    notice = _sent_notice()
    Notice.objects.filter(pk=notice.pk).update(state=NoticeState.REMOVED)
    imap_server.deliver(_reply(b"In-Reply-To: " + notice.message_id.encode()))
    assert replies.replies_run(config.imap_load())["already"] == 1
    assert _state(notice) == NoticeState.REMOVED


def test_an_unreachable_mailbox_or_a_wrong_password_is_reported_not_raised(
    imap_server: DovecotServer, imap_settings: SettingsWrapper, tmp_path: object
) -> None:
    imap_settings.TIPLINE_TAKEDOWN_IMAP_PASSWORD_FILE = ""
    imap_settings.TIPLINE_TAKEDOWN_IMAP_PASSWORD_ENV = "TIPLINE_TEST_NO_SUCH_VARIABLE"
    assert replies.replies_run(config.imap_load()) == {"unavailable": 1}
    imap_server.stop()
    assert replies.replies_run(config.imap_load()) == {"unavailable": 1}


def test_off_by_default_and_clear_text_only_to_loopback(settings: SettingsWrapper) -> None:
    assert config.imap_load() is None
    assert tasks.replies_check.call() == {"off": 1}
    assert tasks.ensure_replies_scheduled() is False
    settings.TIPLINE_TAKEDOWN_IMAP_HOST = "imap.hotline.example"
    settings.TIPLINE_TAKEDOWN_IMAP_SECURITY = "none"
    with pytest.raises(config.ImapMisconfigured):
        config.imap_load()
    settings.TIPLINE_TAKEDOWN_IMAP_SECURITY = "tls"
    assert config.imap_load() is not None


def test_referenced_ids_are_bounded() -> None:
    headers = b"References: " + b" ".join(b"<id%d@x>" % i for i in range(500)) + b"\r\n\r\n"
    assert len(replies.referenced_ids(headers)) == replies.MAX_IDS
    assert replies.referenced_ids(b"In-Reply-To: <" + b"a" * 300 + b"@x>\r\n\r\n") == []
