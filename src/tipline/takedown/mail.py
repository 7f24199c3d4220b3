"""Sending a notice: Django's SMTP backend through the ``notices`` mailer (settings.MAILERS).

The recipient comes from RDAP or an analyst, so it is checked again here to be one plain mailbox
(no CR/LF, no second address) before it reaches a header. The Message-ID is made here so it can
be recorded and matched against the provider's reply.
"""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid

from tipline.takedown.addresses import clean_email
from tipline.takedown.compose import Composed
from tipline.takedown.config import Config

MAILER = "notices"


class BadRecipient(ValueError):
    pass


def send(composed: Composed, *, to: str, config: Config, reference: str) -> str:
    """Send; returns the Message-ID. SMTP errors propagate (the caller retries)."""
    recipient = clean_email(to)
    if not recipient:
        raise BadRecipient("the provider's address is not one plain e-mail address")
    domain = config.sender.rpartition("@")[2] or "localhost"
    message_id = make_msgid(idstring=reference[:8], domain=domain)
    message = EmailMessage(
        subject=composed.subject,
        body=composed.body,
        from_email=config.sender,
        to=[recipient],
        headers={"Message-ID": message_id, "X-Tipline-Notice": reference},
    )
    for i, part in enumerate(composed.xarf_parts, start=1):
        message.attach(f"xarf-{i}.json", part, "application/json")
    message.send(using=MAILER)
    return message_id
