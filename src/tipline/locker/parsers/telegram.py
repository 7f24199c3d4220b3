"""Telegram Desktop JSON exports: one chat (`result.json` of a chat) or the full export.

A single chat is `{"name", "type", "id", "messages": [...]}`; a full export holds chats under
`{"chats": {"list": [...]}}` (and `left_chats`). `text` is a string or a list of parts (strings
and `{"type", "text"}` objects). `date_unixtime` (UTC) is preferred over `date` (local, naive).
Service messages (`"type": "service"`) are system items, except calls, which are calls.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from tipline.locker.parsers.common import check_item_count, clean_name, collect_messages
from tipline.locker.parsers.i18n import _
from tipline.locker.types import Item, Kind, ParseError, ParseResult

# `thumbnail` is a preview of `file`, not a second attachment.
_MEDIA_FIELDS = ("photo", "file")
_NOT_INCLUDED = "(File not included"
_CALL_ACTIONS = {"phone_call", "group_call"}


def looks_like_telegram(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    chats = document.get("chats")
    if isinstance(chats, dict) and isinstance(chats.get("list"), list):
        return True
    messages = document.get("messages")
    return (
        isinstance(messages, list)
        and "participants" not in document
        and ("type" in document or "id" in document)
        and all(isinstance(m, dict) and "date" in m for m in messages[:5])
    )


def parse_telegram(document: Any, warnings: list[str]) -> ParseResult:
    if not looks_like_telegram(document):
        raise ParseError(_("This JSON file is not a Telegram Desktop export."))
    chats = _chats(document)
    check_item_count(
        sum(len(chat["messages"]) for chat in chats if isinstance(chat.get("messages"), list))
    )
    items: list[Item] = []
    skipped = 0
    for chat in chats:
        name = _text(chat.get("name")) or _text(chat.get("type")) or ""
        messages = chat.get("messages")
        if not isinstance(messages, list):
            continue
        skipped += collect_messages(messages, functools.partial(_item, chat=name), items)
    if skipped:
        warnings.append(
            _("%(count)s entr(ies) had no readable date or were not messages; skipped.")
            % {"count": skipped}
        )
    if not items and skipped:
        raise ParseError(_("No Telegram messages could be read from this file."))
    return ParseResult("telegram", items, warnings=warnings)


def _chats(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "messages" in document and isinstance(document["messages"], list):
        return [document]
    chats: list[dict[str, Any]] = []
    for key in ("chats", "left_chats"):
        section = document.get(key)
        listed = section.get("list") if isinstance(section, dict) else None
        if isinstance(listed, list):
            chats.extend(chat for chat in listed if isinstance(chat, dict))
    return chats


def _text(value: Any) -> str:
    """`text` as Telegram writes it: a string, or a list of strings and `{"text": ...}` parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts: list[str] = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _timestamp(message: dict[str, Any]) -> datetime | None:
    unix = message.get("date_unixtime")
    if isinstance(unix, str | int) and not isinstance(unix, bool):
        try:
            return datetime.fromtimestamp(int(unix), tz=UTC)
        except (ValueError, OverflowError, OSError):
            pass
    local = message.get("date")
    if isinstance(local, str):
        try:
            return datetime.fromisoformat(local)
        except ValueError:
            return None
    return None


def _item(message: dict[str, Any], chat: str) -> Item | None:
    stamp = _timestamp(message)
    if stamp is None:
        return None
    service = message.get("type") == "service"
    sender = _text(message.get("actor" if service else "from"))
    sender_id = _text(message.get("actor_id" if service else "from_id"))
    if not sender and not service and message.get("from", "") is None:
        sender = "Deleted Account"
    text = _text(message.get("text"))
    meta: dict[str, str] = {}
    for key in ("id", "media_type", "forwarded_from", "reply_to_message_id", "edited", "via_bot"):
        value = message.get(key)
        if value is not None and value != "":
            meta[key] = _text(value) if not isinstance(value, str) else value
    kind: Kind = "system" if service else "message"
    if service:
        action = _text(message.get("action"))
        meta["action"] = action
        if action in _CALL_ACTIONS:
            kind = "call"
            duration = message.get("duration_seconds")
            if isinstance(duration, int) and not isinstance(duration, bool):
                meta["duration_seconds"] = str(duration)
            if message.get("discard_reason"):
                meta["discard_reason"] = _text(message.get("discard_reason"))
        if not text:
            text = action.replace("_", " ")
            if meta.get("discard_reason"):
                text += f" ({meta['discard_reason']})"
    attachments: list[str] = []
    for key in _MEDIA_FIELDS:
        value = message.get(key)
        if isinstance(value, str) and value:
            if value.startswith(_NOT_INCLUDED):
                meta["media"] = "not included in the export"
            else:
                attachments.append(clean_name(value))
    return Item(
        "telegram",
        kind,
        stamp,
        sender,
        text,
        chat,
        identifiers=(sender_id,) if sender_id else (),
        attachments=tuple(attachments),
        meta=meta,
    )
