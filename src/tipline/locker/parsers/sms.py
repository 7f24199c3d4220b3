"""SMS Backup & Restore XML: `<smses>` with `<sms>` and `<mms>`, and `<calls>` with `<call>`.

Dates are epoch milliseconds (aware, UTC). `type` 1 is received and 2 sent (MMS: `msg_box`),
so the sender is the contact (name, else number) or "me". Calls are `kind="call"` with their
direction and duration. MMS parts: text parts become the text, other parts with `data` (base64)
become media, within the input limit.

Security: parsed only through defusedxml with `forbid_dtd`: a DOCTYPE, entity declarations
(billion laughs) and external entities are refused before anything is expanded or fetched.
Elements are cleared once read, and nesting deeper than the limit is refused.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from io import BytesIO
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XMLParseError

from defusedxml import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml.ElementTree import iterparse

from tipline.locker.parsers.common import check_item_count, clean_name
from tipline.locker.parsers.i18n import _
from tipline.locker.parsers.limits import limit
from tipline.locker.types import Item, Kind, ParseError, ParseResult

_SMS_TYPES = {
    "1": "received",
    "2": "sent",
    "3": "draft",
    "4": "outbox",
    "5": "failed",
    "6": "queued",
}
_CALL_TYPES = {
    "1": "incoming",
    "2": "outgoing",
    "3": "missed",
    "4": "voicemail",
    "5": "rejected",
    "6": "blocked",
}
_MMS_BOX = {"1": "received", "2": "sent", "3": "draft", "4": "outbox"}
_FROM_ADDRESS = "137"


def _attr(element: Element, name: str) -> str:
    value = element.get(name, "")
    return "" if value == "null" else value.strip()


def _when(element: Element) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(_attr(element, "date")) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def parse_sms_backup(data: bytes, filename: str = "") -> ParseResult:
    warnings: list[str] = []
    items: list[Item] = []
    media: dict[str, bytes] = {}
    stack: list[Element] = []
    nesting = limit("MAX_NESTING")
    skipped = 0
    try:
        for event, element in iterparse(BytesIO(data), events=("start", "end"), forbid_dtd=True):
            if event == "start":
                stack.append(element)
                if len(stack) > nesting:
                    raise ParseError(
                        _("The XML is nested more than %(levels)s levels deep.")
                        % {"levels": nesting}
                    )
                continue
            stack.pop()
            if element.tag in ("sms", "mms", "call"):
                item = _read(element, media, warnings)
                if item is None:
                    skipped += 1
                else:
                    items.append(item)
                    check_item_count(len(items))
                # Drop what has been read, or the root would keep every message alive.
                if stack:
                    stack[-1].remove(element)
                element.clear()
    except DTDForbidden:
        raise ParseError(
            _(
                "The XML declares a DTD (<!DOCTYPE>); refused, because DTDs carry entity "
                "expansion and external-entity attacks. SMS Backup & Restore files have none."
            )
        ) from None
    except EntitiesForbidden:
        raise ParseError(_("The XML declares entities (entity expansion); refused.")) from None
    except ExternalReferenceForbidden:
        raise ParseError(_("The XML refers to an external entity; refused.")) from None
    except DefusedXmlException:
        raise ParseError(_("The XML uses unsafe features; refused.")) from None
    except XMLParseError as error:
        line, column = error.position
        raise ParseError(
            _("The XML is damaged at line %(line)s, column %(column)s.")
            % {"line": line, "column": column}
        ) from None
    except (LookupError, UnicodeError):
        # The XML declaration names an encoding Python does not know, or the bytes do not fit it.
        raise ParseError(_("The XML declares a character encoding we cannot read.")) from None
    if skipped:
        warnings.append(
            _("%(count)s entr(ies) had no readable date and were skipped.") % {"count": skipped}
        )
    if not items and skipped:
        raise ParseError(_("No messages or calls could be read from this file."))
    return ParseResult("sms-backup", items, media=media, warnings=warnings)


def _read(element: Element, media: dict[str, bytes], warnings: list[str]) -> Item | None:
    stamp = _when(element)
    if stamp is None:
        return None
    if element.tag == "call":
        return _call(element, stamp)
    if element.tag == "mms":
        return _mms(element, stamp, media, warnings)
    return _sms(element, stamp)


def _party(element: Element, number: str) -> tuple[str, tuple[str, ...]]:
    contact = _attr(element, "contact_name")
    if contact == "(Unknown)":
        contact = ""
    return contact or number, (number,) if number else ()


def _sms(element: Element, stamp: datetime) -> Item:
    number = _attr(element, "address")
    direction = _SMS_TYPES.get(_attr(element, "type"), "unknown")
    contact, identifiers = _party(element, number)
    sender = "me" if direction in ("sent", "outbox", "draft", "queued", "failed") else contact
    meta = {"direction": direction, "address": number}
    if _attr(element, "readable_date"):
        meta["readable_date"] = _attr(element, "readable_date")
    if _attr(element, "subject"):
        meta["subject"] = _attr(element, "subject")
    return Item(
        "sms-backup",
        "message",
        stamp,
        sender,
        element.get("body", ""),
        contact,
        identifiers=identifiers if sender != "me" else (),
        meta=meta,
    )


def _call(element: Element, stamp: datetime) -> Item:
    number = _attr(element, "number")
    direction = _CALL_TYPES.get(_attr(element, "type"), "unknown")
    contact, identifiers = _party(element, number)
    duration = _attr(element, "duration") or "0"
    sender = "me" if direction == "outgoing" else contact
    text = f"{direction.capitalize()} call, {duration} s"
    meta = {"direction": direction, "duration_seconds": duration, "number": number}
    return Item(
        "sms-backup",
        "call",
        stamp,
        sender,
        text,
        contact,
        identifiers=identifiers if sender != "me" else (),
        meta=meta,
    )


def _mms(element: Element, stamp: datetime, media: dict[str, bytes], warnings: list[str]) -> Item:
    direction = _MMS_BOX.get(_attr(element, "msg_box"), "unknown")
    numbers = [a for a in _attr(element, "address").split("~") if a]
    senders = [
        _attr(addr, "address")
        for addr in element.iter("addr")
        if _attr(addr, "type") == _FROM_ADDRESS and _attr(addr, "address")
    ]
    contact, _ids = _party(element, numbers[0] if numbers else "")
    texts: list[str] = []
    attachments: list[str] = []
    for part in element.iter("part"):
        content_type = _attr(part, "ct")
        if content_type == "application/smil":
            continue
        if content_type.startswith("text/") and part.get("text") not in (None, "null"):
            texts.append(part.get("text", ""))
            continue
        name = clean_name(_attr(part, "cl") or _attr(part, "name") or _attr(part, "fn"))
        attachments.append(name)
        encoded = part.get("data")
        if encoded:
            try:
                media.setdefault(name, base64.b64decode(encoded, validate=False))
            except (binascii.Error, ValueError):
                warnings.append(
                    _("An MMS attachment (“%(name)s”) is damaged and was not kept.")
                    % {"name": name}
                )
    kind: Kind = "mms"
    identifiers: tuple[str, ...]
    if direction == "sent":
        sender, identifiers = "me", ()
    else:
        number = senders[0] if senders else (numbers[0] if numbers else "")
        sender = contact or number
        identifiers = (number,) if number else ()
    meta = {"direction": direction, "address": "~".join(numbers)}
    return Item(
        "sms-backup",
        kind,
        stamp,
        sender,
        "\n".join(texts),
        contact,
        identifiers=identifiers,
        attachments=tuple(attachments),
        meta=meta,
    )
