"""Providers' replies by IMAP: a reply quoting a notice's Message-ID marks it acknowledged.

Off unless ``TIPLINE_TAKEDOWN_IMAP_HOST`` is set (docs/deployment.md). A scheduled task logs in
to one mailbox that only Tipline reads, looks at the messages not yet flagged ``\\Seen``, and
flags each one ``\\Seen`` once looked at, so the next run starts where this one stopped.

A reply is hostile input (docs/threat-model.md): anyone can write to an abuse desk's reply
address. So a message larger than ``max_bytes`` is never fetched; of the others only three header
fields are fetched (``BODY.PEEK[HEADER.FIELDS …]``, itself cut at ``HEADER_BYTES``), parsed by the
standard ``email`` package (``policy.default``), with every failure counted as "malformed" and the
message left alone. Nothing of a reply is stored: the match is the notice's id, and the audit entry
names the mailbox, never the sender or the text.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass
from email import policy
from email.errors import HeaderParseError, MessageError
from email.parser import BytesHeaderParser

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tipline.audit.chain import SYSTEM, record
from tipline.takedown.config import ImapConfig
from tipline.takedown.models import Notice, NoticeState

log = logging.getLogger(__name__)

HEADER_BYTES = 32 * 1024  # of the three header fields fetched; a longer answer is cut
MAX_IDS = 50  # message ids read from one reply's In-Reply-To and References
FIELDS = "(MESSAGE-ID IN-REPLY-TO REFERENCES)"
_ID = re.compile(rb"<([!-;=?-~]{1,250})>")  # printable ASCII between angle brackets, bounded
_FETCH_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class ImapUnavailable(Exception):
    """The mailbox could not be reached or read (connection, TLS, login, selection)."""


@dataclass
class Counts:
    acknowledged: int = 0
    already: int = 0  # matched a notice that was past "sent" already
    unmatched: int = 0
    too_large: int = 0
    malformed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def referenced_ids(headers: bytes) -> list[str]:
    """The message ids a reply quotes (In-Reply-To, then References), bracketed, bounded.

    Raises ``ValueError`` for headers the parser cannot read.
    """
    try:
        message = BytesHeaderParser(policy=policy.default).parsebytes(headers[:HEADER_BYTES])
        values = [
            str(value)
            for name in ("In-Reply-To", "References")
            for value in (message.get_all(name) or [])
        ]
    except (HeaderParseError, MessageError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(type(exc).__name__) from exc
    found: list[str] = []
    for value in values:
        raw = value.encode("ascii", "replace")
        for match in _ID.finditer(raw):
            bracketed = "<" + match.group(1).decode("ascii") + ">"
            if bracketed not in found:
                found.append(bracketed)
            if len(found) >= MAX_IDS:
                return found
    return found


def _connect(cfg: ImapConfig) -> imaplib.IMAP4:
    try:
        if cfg.security == "tls":
            context = ssl.create_default_context(cafile=cfg.ca_file or None)
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                cfg.host, cfg.port, ssl_context=context, timeout=cfg.timeout
            )
        else:
            client = imaplib.IMAP4(cfg.host, cfg.port, timeout=cfg.timeout)
            if cfg.security == "starttls":
                client.starttls(ssl.create_default_context(cafile=cfg.ca_file or None))
        client.login(cfg.user, cfg.password)
        status, _data = client.select(_quoted(cfg.mailbox))
        if status != "OK":
            raise ImapUnavailable(f"mailbox {cfg.mailbox!r} cannot be selected")
    except (OSError, ssl.SSLError, imaplib.IMAP4.error, EOFError) as exc:
        raise ImapUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc
    return client


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sizes(client: imaplib.IMAP4, uids: list[bytes]) -> dict[bytes, int]:
    """Each message's size, asked before anything of it is fetched."""
    status, data = client.uid("FETCH", b",".join(uids).decode(), "(RFC822.SIZE)")
    sizes: dict[bytes, int] = {}
    if status != "OK":
        return sizes
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        match = _FETCH_SIZE.search(line)
        if match:
            uid, size = (match.group(1), match.group(2)) if match.group(1) else match.group(4, 3)
            sizes[uid] = int(size)
    return sizes


def _headers(client: imaplib.IMAP4, uid: bytes) -> bytes:
    status, data = client.uid(
        "FETCH", uid.decode(), f"(BODY.PEEK[HEADER.FIELDS {FIELDS}]<0.{HEADER_BYTES}>)"
    )
    if status != "OK":
        raise ValueError("fetch refused")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    raise ValueError("no header fields in the answer")


def _seen(client: imaplib.IMAP4, uid: bytes) -> None:
    client.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")


def replies_fetch(cfg: ImapConfig) -> Counts:
    """Read the unseen messages of the mailbox; acknowledge the notices they answer."""
    counts = Counts()
    client = _connect(cfg)
    try:
        status, data = client.uid("SEARCH", "UNSEEN")
        if status != "OK":
            raise ImapUnavailable("search refused")
        uids = (data[0] or b"").split()[: cfg.max_messages]
        sizes = _sizes(client, uids) if uids else {}
        for uid in uids:
            size = sizes.get(uid)
            if size is None or size > cfg.max_bytes:
                counts.too_large += 1
                _seen(client, uid)
                continue
            try:
                ids = referenced_ids(_headers(client, uid))
            except ValueError:
                counts.malformed += 1
                _seen(client, uid)
                continue
            outcome = notice_acknowledged_by_reply(ids=ids, source=cfg.source)
            setattr(counts, outcome, getattr(counts, outcome) + 1)
            _seen(client, uid)
    except (OSError, imaplib.IMAP4.error, EOFError) as exc:
        raise ImapUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error, EOFError):
            client.logout()
    return counts


def notice_acknowledged_by_reply(*, ids: list[str], source: str) -> str:
    """Acknowledge the sent notice whose Message-ID (or its reminder's) a reply quotes.

    Returns "acknowledged", "already" (a notice past "sent") or "unmatched".
    """
    if not ids:
        return "unmatched"
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update()
            .filter(Q(message_id__in=ids) | Q(reminder_message_id__in=ids))
            .order_by("created_at")
            .first()
        )
        if notice is None:
            return "unmatched"
        if notice.state != NoticeState.SENT:
            return "already"
        notice.state, notice.acknowledged_at = NoticeState.ACKNOWLEDGED, timezone.now()
        notice.save(update_fields=["state", "acknowledged_at"])
        record(
            actor=SYSTEM,
            action="takedown.acknowledged",
            target_type="report",
            target_id=notice.report_id,
            details={"notice": str(notice.id), "source": source},
        )
    return "acknowledged"


def replies_run(cfg: ImapConfig | None) -> dict[str, int]:
    """One run of the reply reader; ``{"off": 1}`` unset, ``{"unavailable": 1}`` unreachable."""
    if cfg is None:
        return {"off": 1}
    try:
        return replies_fetch(cfg).as_dict()
    except ImapUnavailable as exc:
        log.warning("takedown replies: mailbox unavailable: %s", exc)
        return {"unavailable": 1}
