"""Instagram and Facebook "Download your information" message JSON (`message_1.json`).

Meta writes UTF-8 text as if each byte were a Latin-1 character ("Ã©" for "é"); every string
is repaired by encoding it as Latin-1 and decoding as UTF-8, but only when that round-trips, so
text that was already right is left alone. Times are epoch milliseconds (aware, UTC). The newer
Accounts Center shape (`senderName`, `timestamp`, `text`, `media`) is read as well.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from tipline.locker.parsers.common import check_item_count, clean_name, collect_messages
from tipline.locker.parsers.i18n import _
from tipline.locker.types import Item, Kind, ParseError, ParseResult

_MEDIA_KEYS = ("photos", "videos", "audio_files", "gifs", "files", "media")


def looks_like_meta(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    messages = document.get("messages")
    if not isinstance(messages, list) or "participants" not in document:
        return False
    return all(
        isinstance(m, dict) and ("timestamp_ms" in m or "timestamp" in m) for m in messages[:5]
    )


def repair(text: str) -> str:
    """Undo Meta's Latin-1 mojibake when (and only when) it round-trips."""
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def _str(value: Any) -> str:
    return repair(value) if isinstance(value, str) else ""


def parse_meta(document: Any, warnings: list[str]) -> ParseResult:
    if not looks_like_meta(document):
        raise ParseError(_("This JSON file is not an Instagram or Facebook message export."))
    messages = document["messages"]
    check_item_count(len(messages))
    title = _str(document.get("title")) or _str(document.get("threadName"))
    items: list[Item] = []
    skipped = collect_messages(messages, functools.partial(_item, title=title), items)
    if skipped:
        warnings.append(
            _("%(count)s message(s) had no readable time and were skipped.") % {"count": skipped}
        )
    if not items and skipped:
        raise ParseError(_("No messages could be read from this file."))
    # Meta lists the newest first; the timeline reads oldest first.
    items.sort(key=lambda item: item.timestamp or datetime.min.replace(tzinfo=UTC))
    return ParseResult("meta", items, warnings=warnings)


def _timestamp(message: dict[str, Any]) -> datetime | None:
    value = message.get("timestamp_ms", message.get("timestamp"))
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _item(message: dict[str, Any], title: str) -> Item | None:
    stamp = _timestamp(message)
    if stamp is None:
        return None
    sender = _str(message.get("sender_name")) or _str(message.get("senderName"))
    text = _str(message.get("content")) or _str(message.get("text"))
    meta: dict[str, str] = {}
    attachments: list[str] = []
    for key in _MEDIA_KEYS:
        entries = message.get(key)
        if isinstance(entries, list):
            for entry in entries:
                uri = entry.get("uri") if isinstance(entry, dict) else None
                if isinstance(uri, str) and uri:
                    attachments.append(clean_name(repair(uri)))
    share = message.get("share")
    if isinstance(share, dict):
        if isinstance(share.get("link"), str):
            meta["share_link"] = _str(share["link"])
        if isinstance(share.get("share_text"), str):
            meta["share_text"] = _str(share["share_text"])
    kind: Kind = "message"
    duration = message.get("call_duration")
    if isinstance(duration, int) and not isinstance(duration, bool):
        kind = "call"
        meta["duration_seconds"] = str(duration)
    if message.get("is_unsent") is True or message.get("isUnsent") is True:
        meta["unsent"] = "yes"
    kind_name = _str(message.get("type"))
    if kind_name:
        meta["type"] = kind_name
    reactions = message.get("reactions")
    if isinstance(reactions, list) and reactions:
        meta["reactions"] = ", ".join(
            f"{_str(r.get('reaction'))} {_str(r.get('actor'))}".strip()
            for r in reactions
            if isinstance(r, dict)
        )
    return Item(
        "meta",
        kind,
        stamp,
        sender,
        text,
        title,
        attachments=tuple(attachments),
        meta=meta,
    )
