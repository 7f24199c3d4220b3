"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 on a free port, collecting every message.

Shared by every test that sends mail (referral packages, notices, audit checkpoints)::

    def test_something(mail_server: MailServer) -> None:   # the fixture below
        ...
        (message,) = mail_server.messages                   # email.message.EmailMessage

``mail_server`` also points Django's default mailer at it. ``MailServer.stop()`` (or a port
nobody listens on, ``closed_port()``) is how a test makes SMTP "down".
"""

from __future__ import annotations

import asyncio
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.live import free_port


class MailServer:
    """aiosmtpd on 127.0.0.1; ``messages`` holds what arrived, parsed (modern policy)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.running = False

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        parsed = BytesParser(policy=email.policy.default).parsebytes(content)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 OK"

    def start(self) -> MailServer:
        self._controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self._controller.stop()
            self.running = False
        asyncio.set_event_loop(None)

    def mailer(self) -> dict[str, Any]:
        """A ``MAILERS`` setting that sends here."""
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 10},
            }
        }


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (SMTP down: the connection is refused)."""
    return free_port()


@pytest.fixture
def mail_server(settings: Any) -> Iterator[MailServer]:
    server = MailServer().start()
    settings.MAILERS = server.mailer()
    yield server
    server.stop()
