"""Where checkpoints go: a log file outside the database, syslog, and optionally e-mail.

Each place is tried on its own, so one that is down does not stop the others, and each outcome is
reported (the command prints them; the scheduled task logs them). Only the file is read back by
Tipline itself; syslog and e-mail exist to put copies where someone with this machine's keys
cannot recall them. A broken chain found while taking a checkpoint is sent as an alert to the same
syslog and e-mail recipients.

Nothing here carries report content: a checkpoint is an entry number, a hash, a time, a key id and
a signature.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import sys
from dataclasses import dataclass
from logging.handlers import SysLogHandler
from pathlib import Path
from typing import Literal

from django.conf import settings
from django.core.mail import send_mail

from tipline.audit.checkpoints import LOG_NAME, Checkpoint

DEFAULT_SYSLOG_SOCKET = "/dev/log"
SYSLOG_IDENT = "tipline-audit: "


@dataclass(frozen=True)
class Delivery:
    sink: str  # "file", "syslog" or "email"
    status: Literal["sent", "skipped", "failed"]
    detail: str  # where it went, or why not


def publish(checkpoint: Checkpoint) -> list[Delivery]:
    line = checkpoint.line()
    return [
        _to_file(line),
        _to_syslog(line, level=logging.INFO),
        _to_email(
            subject=f"Tipline audit checkpoint: entry {checkpoint.seq}",
            body=(
                "A signed checkpoint of the Tipline audit log. Keep this message: with it anyone\n"
                f"can check later that the log was not cut short or rewritten up to entry"
                f" {checkpoint.seq}.\n\n{line}\n\n"
                "To check: save this message as a file and run\n"
                "  tipline audit verify --against FILE --pubkey PUBLISHED-KEY.pem\n"
            ),
        ),
    ]


def alert(message: str) -> list[Delivery]:
    """Tell syslog and the e-mail recipients that the chain failed a check."""
    text = f"ALERT: {message}"
    return [
        _to_syslog(text, level=logging.CRITICAL),
        _to_email(subject="Tipline audit log ALERT", body=text + "\n"),
    ]


def _to_file(line: str) -> Delivery:
    directory = Path(settings.TIPLINE_AUDIT_CHECKPOINT_DIR)
    path = directory / LOG_NAME
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Appended and synced: the log only grows, and a checkpoint reported as written survives
        # a crash. O_NOFOLLOW: a link planted in place of the log is refused, not followed.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        return Delivery("file", "failed", f"{path}: {exc.strerror or type(exc).__name__}")
    return Delivery("file", "sent", str(path))


class _RaisingSysLogHandler(SysLogHandler):
    """SysLogHandler reports a failed send to stderr and carries on; we want to know."""

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            raise error


def _syslog_target() -> tuple[str | tuple[str, int], socket.SocketKind] | None:
    """Address from TIPLINE_AUDIT_SYSLOG: "" (the local socket when there is one), "off", a Unix
    socket path, or udp:HOST:PORT / tcp:HOST:PORT."""
    target = settings.TIPLINE_AUDIT_SYSLOG
    if target == "off":
        return None
    if target == "":
        local = Path(DEFAULT_SYSLOG_SOCKET)
        return (DEFAULT_SYSLOG_SOCKET, socket.SOCK_DGRAM) if local.exists() else None
    if target.startswith(("udp:", "tcp:")):
        host, _, port = target[4:].rpartition(":")
        kind = socket.SOCK_DGRAM if target.startswith("udp:") else socket.SOCK_STREAM
        return (host.strip("[]"), int(port)), kind
    return target, socket.SOCK_DGRAM


def _to_syslog(message: str, *, level: int) -> Delivery:
    try:
        target = _syslog_target()
    except ValueError:
        return Delivery("syslog", "failed", "TIPLINE_AUDIT_SYSLOG is not udp:HOST:PORT")
    if target is None:
        return Delivery("syslog", "skipped", "no syslog socket (TIPLINE_AUDIT_SYSLOG)")
    address, kind = target
    where = address if isinstance(address, str) else f"{address[0]}:{address[1]}"
    try:
        handler = _RaisingSysLogHandler(
            address=address, facility=SysLogHandler.LOG_AUTH, socktype=kind
        )
        handler.ident = SYSLOG_IDENT
        try:
            handler.emit(
                logging.makeLogRecord(
                    {"msg": message, "levelno": level, "levelname": logging.getLevelName(level)}
                )
            )
        finally:
            handler.close()
    except OSError as exc:
        return Delivery("syslog", "failed", f"{where}: {exc.strerror or type(exc).__name__}")
    return Delivery("syslog", "sent", where)


def _to_email(*, subject: str, body: str) -> Delivery:
    recipients = list(settings.TIPLINE_AUDIT_CHECKPOINT_EMAIL)
    if not recipients:
        return Delivery("email", "skipped", "no recipients (TIPLINE_AUDIT_CHECKPOINT_EMAIL)")
    try:
        send_mail(subject, body, None, recipients)
    except (OSError, smtplib.SMTPException) as exc:
        return Delivery("email", "failed", f"SMTP: {type(exc).__name__}")
    return Delivery("email", "sent", ", ".join(recipients))
