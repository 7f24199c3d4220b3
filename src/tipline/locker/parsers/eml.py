"""E-mail messages (.eml, RFC 5322), read with the standard library (`policy.default`).

One item per file. Besides the sender, body and subject, the facts a court or an investigator
asks about are kept in `meta`: Message-ID, Date, every Received header in order (the first is
the last hop, nearest the victim), Authentication-Results and the DKIM signature's domain and
selector. They are kept as written, never "verified" here: that needs the keys as they were on
the day. HTML bodies are turned into text by a parser that drops scripts and styles and never
fetches anything.
"""

from __future__ import annotations

import email
import email.errors
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from html.parser import HTMLParser

from tipline.locker.parsers.common import clean_name
from tipline.locker.parsers.i18n import _
from tipline.locker.types import Item, ParseError, ParseResult

_HEADER_LINE = re.compile(rb"[!-9;-~]{1,76}:")
_IDENTITY = {b"from", b"sender"}
_EVIDENCE = {b"date", b"message-id", b"received", b"subject", b"to", b"return-path"}
_DKIM_TAG = re.compile(r"(?:^|;)\s*([ds])\s*=\s*([^;\s]+)")
# What the email package may raise on a hostile header or body (it is lenient, not total).
_EMAIL_ERRORS = (
    email.errors.MessageError,
    ValueError,
    OverflowError,
    TypeError,
    IndexError,
    AttributeError,
    LookupError,
    UnicodeError,
    AssertionError,
)


def looks_like_email(head: bytes) -> bool:
    """The file opens with a block of RFC 5322 header fields, including From and another."""
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[0].startswith(b"From "):  # mbox separator line
        lines = lines[1:]
    names: set[bytes] = set()
    for line in lines:
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            if not names:
                return False
            continue
        found = _HEADER_LINE.match(line)
        if found is None:
            return False
        names.add(found.group(0)[:-1].lower())
    return bool(names & _IDENTITY) and bool(names & _EVIDENCE)


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "title"})
    _BREAK = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    text = "".join(extractor.parts)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return re.sub(r"\n\s*\n+", "\n\n", text).strip()


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, OverflowError):
        # Structured headers (Date) are parsed when fetched and can overflow on hostile values;
        # keep the text exactly as written instead.
        value = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    return " ".join(str(value).split()) if value is not None else ""


def _all(message: Message, name: str) -> list[str]:
    return [" ".join(str(v).split()) for v in message.get_all(name) or []]


def parse_eml(data: bytes, filename: str = "") -> ParseResult:
    warnings: list[str] = []
    try:
        message = email.message_from_bytes(data, policy=policy.default)
        return _read(message, warnings)
    except ParseError:
        raise
    except _EMAIL_ERRORS:
        raise ParseError(_("The e-mail file is damaged and could not be read.")) from None


def _read(message: EmailMessage | Message, warnings: list[str]) -> ParseResult:
    if not isinstance(message, EmailMessage):
        raise ParseError(_("The e-mail file could not be read."))
    sender, identifiers = _sender(message)
    stamp = _date(message, warnings)
    meta: dict[str, str] = {}
    for name in ("Message-ID", "Date", "To", "Cc", "Reply-To", "Return-Path"):
        if value := _header(message, name):
            meta[name] = value
    for number, received in enumerate(_all(message, "Received"), start=1):
        meta[f"Received {number}"] = received
    for number, result in enumerate(_all(message, "Authentication-Results"), start=1):
        meta[f"Authentication-Results {number}"] = result
    signatures = []
    for signature in _all(message, "DKIM-Signature"):
        tags = dict(_DKIM_TAG.findall(signature))
        signatures.append(f"d={tags.get('d', '?')}; s={tags.get('s', '?')}")
    if signatures:
        meta["DKIM-Signature"] = "\n".join(signatures)
    text = _body(message, warnings)
    attachments: list[str] = []
    media: dict[str, bytes] = {}
    for part in message.iter_attachments():
        name = clean_name(part.get_filename() or "attachment")
        attachments.append(name)
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            media.setdefault(name, payload)
    if attachments:
        meta["Attachments"] = ", ".join(attachments)
    item = Item(
        "eml",
        "email",
        stamp,
        sender,
        text,
        _header(message, "Subject"),
        identifiers=identifiers,
        attachments=tuple(attachments),
        meta=meta,
    )
    return ParseResult("eml", [item], media=media, warnings=warnings)


def _sender(message: EmailMessage) -> tuple[str, tuple[str, ...]]:
    header = message.get("From")
    addresses = getattr(header, "addresses", ()) if header is not None else ()
    for address in addresses:
        if address.addr_spec and address.addr_spec != "<>":
            return address.addr_spec, (address.addr_spec.lower(),)
    raw = _header(message, "From")
    return raw, ()


def _date(message: EmailMessage, warnings: list[str]) -> datetime | None:
    try:
        header = message.get("Date")
    except (ValueError, OverflowError):
        # The standard library parses Date when it is fetched; a year with twenty digits
        # overflows there (found by benchmarks/evidence_fuzz.py).
        warnings.append(_("The e-mail's Date header could not be read; it has no time."))
        return None
    if header is None:
        warnings.append(_("The e-mail has no Date header; it has no time on the timeline."))
        return None
    stamp = getattr(header, "datetime", None)
    if not isinstance(stamp, datetime):
        warnings.append(_("The e-mail's Date header could not be read; it has no time."))
        return None
    # "-0000" means "UTC, local zone unknown" (RFC 5322 3.3); the library returns it naive.
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def _body(message: EmailMessage, warnings: list[str]) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError, KeyError, AttributeError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
        warnings.append(_("The e-mail body's character set could not be read; shown as UTF-8."))
    if not isinstance(content, str):
        return ""
    content = content.replace("\r\n", "\n")
    return html_to_text(content) if part.get_content_subtype() == "html" else content.strip()
