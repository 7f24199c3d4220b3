"""WhatsApp chat exports: Android and iOS, as .txt or as a .zip with media.

Which lines start a message, and what time they carry, is `whatsapp_lines`' job: it knows the
shapes phones in many languages, calendars and app versions have written. Here the file is
recognised by the share of its lines that start a message (not by its first line, which may be a
title), message lines become items, and every other line is kept as text: a line below a message
continues it; lines above the first message become one undated note. Lines that look like the
start of a message but cannot be read are kept as text too, and the victim is told.

The export carries no time zone, so timestamps are naive: the phone's local time as written,
converted to the Gregorian calendar when the phone wrote another one (with a warning). Which
field is the day is decided per line style from the values (a first field above 12 means
day-first; a second above 12 means month-first); when the values never say, the order that keeps
the messages in time order wins, and day-first otherwise, with a warning either way.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

from tipline.locker.parsers import whatsapp_lines as wl
from tipline.locker.parsers.common import check_item_count, clean_name, decode_text, read_zip
from tipline.locker.parsers.i18n import _, gettext_noop
from tipline.locker.types import Item, Kind, ParseError, ParseResult

_MARKS = wl.MARKS
# A file is a chat when at least this share of its first lines start a message (the rest are
# multi-line messages and a title); a long pasted letter in the first lines is still read
# because the first MIN_HEADS message lines are enough on their own.
MIN_SHARE = 0.2
MIN_HEADS = 10
DETECT_LINES = 400
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
# "WhatsApp Chat with X", "Chat de WhatsApp con X", "Discussion WhatsApp avec X", ...
_CHAT_NAME = re.compile(
    r"^.{0,40}?WhatsApp.{0,20}? (?:with|-|con|avec|mit|com|met|s uživatelem|ile"
    r"|\u0441 \u043a\u043e\u043d\u0442\u0430\u043a\u0442\u043e\u043c) "  # Russian
    r"(.+?)(?:\.txt|\.zip)?$",
    re.IGNORECASE,
)
_STRIP = wl.STRIP_MARKS
_HAS_MARK = wl.HAS_MARK.search
_WIDE_COLON = "\uff1a "


def looks_like_whatsapp(text: str) -> bool:
    """Enough of the first lines start a message (a title or a long message may come first)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:DETECT_LINES]
    heads, _weak = wl.read_lines(lines)
    if len(heads) >= MIN_HEADS:
        return True
    return bool(heads) and wl.share(lines) >= MIN_SHARE


def chat_member_name(names: list[str]) -> str | None:
    """Which member of a zip is the chat: `_chat.txt`, `WhatsApp Chat with X.txt`, or sole .txt."""
    texts = [n for n in names if n.lower().endswith(".txt") and not n.startswith("__MACOSX/")]
    for name in texts:
        if clean_name(name) == "_chat.txt":
            return name
    for name in texts:
        if "whatsapp" in clean_name(name).lower():
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
    heads, weak = wl.read_lines(lines)
    if not heads:
        raise ParseError(_("No WhatsApp messages were found in the file."))
    orders = _decide_orders(heads, warnings)
    stamps: dict[int, datetime] = {}
    by_index: dict[int, re.Match[str]] = {}
    calendars: set[str] = set()
    bad = 0
    timestamp = wl.timestamp
    for head in heads:
        found = timestamp(head.match, orders[head.style])
        if found is None:
            bad += 1
        else:
            stamps[head.index] = found[0]
            by_index[head.index] = head.match
            calendars.add(found[1])
    if bad:
        warnings.append(
            _(
                "%(count)s line(s) began like a message but with an impossible date or time; "
                "they were kept as text of the message above."
            )
            % {"count": bad}
        )
    if not stamps:
        raise ParseError(_("No WhatsApp messages with a valid date were found in the file."))
    _warn_unread(lines, by_index, weak, warnings)
    _warn_calendars(calendars, warnings)
    check_item_count(len(stamps))
    items = _preamble(lines, min(stamps), conversation, warnings)
    items.extend(_items(lines, stamps, by_index, conversation))
    return ParseResult("whatsapp", items, warnings=warnings)


def _warn_unread(
    lines: list[str], read: dict[int, re.Match[str]], weak: int, warnings: list[str]
) -> None:
    """Say how many lines looked like a message's start but were kept as text."""
    near = wl.NEAR_MISS.match
    missed = [
        n for n, line in enumerate(lines) if n not in read and line[:1].isdigit() and near(line)
    ]
    count = max(len(missed), weak)
    if count:
        warnings.append(
            _(
                "%(count)s line(s) looked like the start of a message but could not be read "
                "(first at line %(line)s); they were kept as text of the message above."
            )
            % {"count": count, "line": (missed[0] + 1) if missed else "?"}
        )


# Marked here, translated where used: the language is the request's.
_CALENDAR_WARNINGS = {
    "buddhist": gettext_noop(
        "The phone wrote Buddhist-era years; they were converted to the usual calendar."
    ),
    "japanese": gettext_noop(
        "The phone wrote Japanese era years; they were converted to the usual calendar."
    ),
    "persian": gettext_noop(
        "The phone wrote Persian (solar Hijri) dates; they were converted to the usual calendar."
    ),
    "hijri": gettext_noop(
        "The phone wrote Islamic (Hijri) dates; they were converted to the usual calendar "
        "with the Umm al-Qura tables. Check one date against the phone."
    ),
}


def _warn_calendars(calendars: set[str], warnings: list[str]) -> None:
    for calendar in sorted(calendars - {"gregorian"}):
        warnings.append(_(_CALENDAR_WARNINGS[calendar]))


def _preamble(lines: list[str], first: int, conversation: str, warnings: list[str]) -> list[Item]:
    """Lines above the first message (a title, a pasted note): one undated note, never lost."""
    kept = [line.translate(_STRIP).rstrip() for line in lines[:first]]
    text = "\n".join(kept).strip()
    if not text:
        return []
    warnings.append(
        _(
            "%(count)s line(s) above the first message (a title, perhaps) were kept as a note "
            "without a time."
        )
        % {"count": sum(1 for line in kept if line.strip())}
    )
    return [Item("whatsapp", "system", None, "", text, conversation)]


def _items(
    lines: list[str],
    stamps: dict[int, datetime],
    by_index: dict[int, re.Match[str]],
    conversation: str,
) -> list[Item]:
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
    if not colon and _WIDE_COLON in rest.split("\n", 1)[0]:
        sender, colon, body = rest.partition(_WIDE_COLON)  # Chinese and Japanese
    if not colon and rest.endswith(":") and "\n" not in rest:
        sender, colon, body = rest[:-1], ":", ""
    # Most senders carry no marks; translating only those that do keeps 100,000 lines fast.
    sender = (sender.translate(_STRIP) if _HAS_MARK(sender) else sender).strip()
    if not colon or not sender or len(sender) > 100 or "\n" in sender:
        return Item("whatsapp", "system", stamp, "", rest.translate(_STRIP).strip(), conversation)
    marked = body.startswith("\u200e")
    body = body.lstrip(_MARKS)
    attachments = (
        tuple(clean_name(n) for n in _ATTACHED.findall(body) + _FILE_ATTACHED.findall(body))
        if "<" in body or "(" in body
        else ()
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


def _decide_orders(heads: list[wl.Head], warnings: list[str]) -> dict[wl.Style, str]:
    groups: dict[wl.Style, list[re.Match[str]]] = defaultdict(list)
    for head in heads:
        groups[head.style].append(head.match)
    orders = {style: wl.decide_order(matches, warnings) for style, matches in groups.items()}
    if len(groups) > 1:
        warnings.append(
            _(
                "The file mixes date formats from different phone settings; each kind of line "
                "was read on its own terms. Check the dates against the phone."
            )
        )
    return orders
