"""WhatsApp chat exports: Android and iOS, as .txt or as a .zip with media.

Android: `12/03/2024, 09:15 - Name: text`; iOS: `[12/03/2024, 09:15:02] Name: text`; each in
many locale variants (d/m/y, m/d/y, y-m-d; `/`, `.` or `-`; 12-hour clocks with AM/PM or a.m./p.m.
and a narrow no-break space, or 24-hour), with CRLF line ends and U+200E marks. A line that does
not start with a date is the continuation of the message above.

The export carries no time zone, so timestamps are naive: the phone's local time as written.
Which field is the day is decided per line style from the values (a first field above 12 means
day-first; a second above 12 means month-first); when the values never say, the order that keeps
the messages in time order wins, and day-first otherwise, with a warning either way.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from tipline.locker.parsers.common import check_item_count, clean_name, decode_text, read_zip
from tipline.locker.parsers.i18n import _
from tipline.locker.types import Item, Kind, ParseError, ParseResult

_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_SPACE = r"[ \u00a0\u202f]"
HEADER = re.compile(
    rf"[{_MARKS}]*(?P<br>\[)?"
    r"(?P<a>\d{1,4})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})\.?,?"
    rf"{_SPACE}+"
    r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?"
    rf"(?:{_SPACE}?(?P<ap>[AaPp])\.?{_SPACE}?[Mm]\.?)?"
    rf"(?:(?P<close>\])[ {_MARKS}]|{_SPACE}[-\u2013]{_SPACE})"
    r"(?P<rest>.*)",
    re.DOTALL,
)
_ATTACHED = re.compile(r"<attached: ([^>\n]{1,255})>")
_FILE_ATTACHED = re.compile(
    r"^[\u200e]?([^\n]{1,255}?\.\w{1,5}) \((?:file attached|Datei angehängt|archivo adjunto|"
    r"fichier joint|arquivo anexado|file allegato|bestand bijgevoegd)\)",
    re.MULTILINE,
)
_OMITTED = re.compile(
    r"^(?:<Media omitted>|<Médias omis>|<Medien ausgeschlossen>|<Multimedia omitido>|"
    r"(?:image|video|audio|sticker|GIF|document|Contact card) omitted)",
    re.IGNORECASE,
)
_CALL = re.compile(r"^(Missed )?(group )?(voice|video) call", re.IGNORECASE)
_DELETED = re.compile(r"^(?:This message was deleted|You deleted this message)", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[\d ()\-\u00a0]{7,24}$")
_CHAT_NAME = re.compile(r"^WhatsApp Chat (?:with|-) (.+?)(?:\.txt|\.zip)?$", re.IGNORECASE)
_STRIP = str.maketrans("", "", _MARKS)


@dataclass(slots=True)
class _Line:
    index: int
    match: re.Match[str]
    style: tuple[bool, str, bool]


def looks_like_whatsapp(text: str) -> bool:
    """The first non-blank line is a WhatsApp message line."""
    for line in text[:4096].splitlines():
        if line.strip(" \t" + _MARKS):
            return HEADER.match(line) is not None
    return False


def chat_member_name(names: list[str]) -> str | None:
    """Which member of a zip is the chat: `_chat.txt`, `WhatsApp Chat with X.txt`, or sole .txt."""
    texts = [n for n in names if n.lower().endswith(".txt") and not n.startswith("__MACOSX/")]
    for name in texts:
        if clean_name(name) == "_chat.txt":
            return name
    for name in texts:
        if clean_name(name).lower().startswith("whatsapp"):
            return name
    return texts[0] if len(texts) == 1 else None


def parse_whatsapp_zip(data: bytes, filename: str = "") -> ParseResult:
    members = read_zip(data)
    chat = chat_member_name([m.name for m in members])
    if chat is None:
        raise ParseError(_("The zip file does not contain a WhatsApp chat (_chat.txt)."))
    warnings: list[str] = []
    media: dict[str, bytes] = {}
    for member in members:
        if member.name == chat or member.name.startswith("__MACOSX/"):
            continue
        name = clean_name(member.name)
        if name in media:
            warnings.append(
                _("Two files in the zip are called “%(name)s”; the first was kept.")
                % {"name": name}
            )
            continue
        media[name] = member.data
    text_bytes = next(m.data for m in members if m.name == chat)
    conversation = _conversation(clean_name(chat)) or _conversation(clean_name(filename))
    result = parse_whatsapp(text_bytes, conversation=conversation, warnings=warnings)
    missing = sorted({a for item in result.items for a in item.attachments} - media.keys())
    if missing:
        warnings.append(
            _("%(count)s attached file(s) named in the chat are not in the zip (e.g. “%(name)s”).")
            % {"count": len(missing), "name": missing[0]}
        )
    return ParseResult("whatsapp", result.items, media=media, warnings=warnings)


def _conversation(name: str) -> str:
    found = _CHAT_NAME.match(name)
    return found.group(1) if found else ""


def parse_whatsapp_text(data: bytes, filename: str = "") -> ParseResult:
    return parse_whatsapp(data, conversation=_conversation(clean_name(filename)), warnings=[])


def parse_whatsapp(data: bytes, *, conversation: str, warnings: list[str]) -> ParseResult:
    text = decode_text(data, warnings)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    heads: list[_Line] = []
    match = HEADER.match
    for index, line in enumerate(lines):
        found = match(line)
        if found is not None and bool(found["br"]) == bool(found["close"]):
            style = (bool(found["br"]), found["sep"], found["ap"] is not None)
            heads.append(_Line(index, found, style))
    if not heads:
        raise ParseError(_("No WhatsApp messages were found in the file."))
    orders = _decide_orders(heads, warnings)
    stamps: dict[int, datetime] = {}
    bad = 0
    for head in heads:
        stamp = _timestamp(head.match, orders[head.style])
        if stamp is None:
            bad += 1
        else:
            stamps[head.index] = stamp
    if bad:
        warnings.append(
            _(
                "%(count)s line(s) began like a message but with an impossible date or time; "
                "they were kept as text of the message above."
            )
            % {"count": bad}
        )
    first = min(stamps, default=None)
    if first is None:
        raise ParseError(_("No WhatsApp messages with a valid date were found in the file."))
    if any(line.strip(" \t" + _MARKS) for line in lines[:first]):
        raise ParseError(_("The file does not start with a WhatsApp message line."))
    check_item_count(len(stamps))
    items = _items(lines, stamps, heads, conversation)
    return ParseResult("whatsapp", items, warnings=warnings)


def _items(
    lines: list[str], stamps: dict[int, datetime], heads: list[_Line], conversation: str
) -> list[Item]:
    by_index = {head.index: head.match for head in heads if head.index in stamps}
    starts = sorted(stamps)
    items: list[Item] = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        rest = by_index[start]["rest"]
        if end - start > 1:
            rest = "\n".join([rest, *lines[start + 1 : end]]).rstrip("\n")
        items.append(_item(stamps[start], rest, conversation))
    return items


def _item(stamp: datetime, rest: str, conversation: str) -> Item:
    sender, colon, body = rest.partition(": ")
    if not colon and rest.endswith(":") and "\n" not in rest:
        sender, colon, body = rest[:-1], ":", ""
    sender = sender.translate(_STRIP).strip()
    if not colon or not sender or len(sender) > 100 or "\n" in sender:
        return Item("whatsapp", "system", stamp, "", rest.translate(_STRIP).strip(), conversation)
    marked = body.startswith("\u200e")
    body = body.lstrip(_MARKS)
    attachments = tuple(
        clean_name(name) for name in _ATTACHED.findall(body) + _FILE_ATTACHED.findall(body)
    )
    meta: dict[str, str] = {}
    kind: Kind = "message"
    if _OMITTED.match(body):
        meta["media"] = "omitted from the export"
    elif _CALL.match(body):
        kind = "call"
    elif _DELETED.match(body):
        meta["deleted"] = "yes"
    elif marked and not attachments:
        # iOS writes its own notices ("Messages and calls are end-to-end encrypted") as if the
        # chat had sent them, marked with U+200E; they are not words of either person.
        kind = "system"
    identifiers = (sender.replace(" ", "").replace("-", ""),) if _PHONE.match(sender) else ()
    return Item(
        "whatsapp",
        kind,
        stamp,
        "" if kind == "system" else sender,
        body,
        conversation,
        identifiers=identifiers,
        attachments=attachments,
        meta=meta,
    )


# Orders: "ymd", "dmy", "mdy", or "either" (the values prove both orders: mixed locales).
def _decide_orders(heads: list[_Line], warnings: list[str]) -> dict[tuple[bool, str, bool], str]:
    groups: dict[tuple[bool, str, bool], list[re.Match[str]]] = defaultdict(list)
    for head in heads:
        groups[head.style].append(head.match)
    orders: dict[tuple[bool, str, bool], str] = {}
    for style, matches in groups.items():
        orders[style] = _decide_order(matches, warnings)
    if len(groups) > 1:
        warnings.append(
            _(
                "The file mixes date formats from different phone settings; each kind of line "
                "was read on its own terms. Check the dates against the phone."
            )
        )
    return orders


def _decide_order(matches: list[re.Match[str]], warnings: list[str]) -> str:
    if all(len(m["a"]) >= 3 for m in matches):
        return "ymd"
    day_first = any(int(m["a"]) > 12 for m in matches)
    month_first = any(int(m["b"]) > 12 for m in matches)
    if day_first and month_first:
        warnings.append(
            _(
                "Some dates are written day-first and others month-first in the same style; "
                "each was read the way its values allow. Check the dates against the phone."
            )
        )
        return "either"
    if day_first or month_first:
        return "dmy" if day_first else "mdy"
    dmy = _inversions(matches, "dmy")
    mdy = _inversions(matches, "mdy")
    if mdy < dmy:
        warnings.append(
            _(
                "The dates could be read either day-first or month-first; they were read "
                "month-first because that keeps the messages in time order."
            )
        )
        return "mdy"
    if dmy < mdy:
        return "dmy"
    if any(int(m["a"]) != int(m["b"]) for m in matches):
        warnings.append(
            _(
                "The dates could be read either day-first or month-first; they were read "
                "day-first. Check one date against the phone."
            )
        )
    return "dmy"


def _inversions(matches: list[re.Match[str]], order: str) -> int:
    """How often a message would be dated before the one above it, read in `order`."""
    count = 0
    previous: tuple[int, int, int] | None = None
    for m in matches:
        a, b, c = int(m["a"]), int(m["b"]), int(m["c"])
        key = (c, b, a) if order == "dmy" else (c, a, b)
        if previous is not None and key < previous:
            count += 1
        previous = key
    return count


def _timestamp(m: re.Match[str], order: str) -> datetime | None:
    a, b, c = int(m["a"]), int(m["b"]), int(m["c"])
    hour, minute = int(m["H"]), int(m["M"])
    second = int(m["S"]) if m["S"] else 0
    if m["ap"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ap"] in "Pp" else 0)
    if len(m["a"]) >= 3:
        year, month, day = a, b, c
    elif order == "mdy" or (order == "either" and b > 12):
        month, day, year = a, b, c
    else:
        day, month, year = a, b, c
    if len(m["c"]) <= 2 and len(m["a"]) <= 2:
        year += 2000
    elif len(m["c"]) == 3 or (len(m["a"]) == 3):
        return None
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
