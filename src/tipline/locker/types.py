"""The shapes that pass between the locker's parts: parsers produce `Item`s, the locker stores
them, and the timeline, chart and exports read a `Snapshot`.

Kept in one small module so that the parsers (pure functions over bytes), the web locker and the
exports can be written and tested apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

# Format identifiers, as `tipline evidence parse` prints them and the locker stores them.
Format = Literal["eml", "whatsapp", "telegram", "meta", "sms-backup", "screenshot"]

# What an item is. "system" lines (e.g. "Messages are end-to-end encrypted") are kept but are
# never counted as messages from anyone.
Kind = Literal["message", "email", "call", "mms", "image", "system"]


class ParseError(Exception):
    """The file is not one we recognise, is malformed, or is hostile (bomb, traversal, too big).

    The message is shown to the victim as is: plain words, no stack trace, no file content.
    Nothing from a file that raised ParseError is imported.
    """


@dataclass(frozen=True, slots=True)
class Item:
    source: Format
    kind: Kind
    # Aware when the export says the offset (e-mail, Telegram unixtime, SMS millis, Meta millis);
    # naive when it does not (WhatsApp): then it is the local time as written on the phone.
    timestamp: datetime | None
    sender: str
    text: str
    # The chat, thread or mailbox the item belongs to (chat title, other party, subject).
    conversation: str = ""
    # Identifiers of the sender as found in the export: phone numbers, e-mail addresses, handles,
    # numeric account ids. Used to group the other party's accounts on the timeline.
    identifiers: tuple[str, ...] = ()
    # Names of media files the item refers to (inside a .zip export, or MMS parts).
    attachments: tuple[str, ...] = ()
    # Format-specific facts worth keeping for a court: Message-ID, Received chain,
    # Authentication-Results, DKIM-Signature domain, call duration, direction, ...
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParseResult:
    format: Format
    items: list[Item]
    # Media files that came inside the export (zip members, MMS parts), by name: original bytes.
    media: dict[str, bytes] = field(default_factory=dict)
    # Things the victim should know that did not stop the import ("3 lines could not be read
    # as messages and were kept as text of the message above").
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """One imported file as the locker keeps it: the original bytes' digest and when it came."""

    id: int
    filename: str
    format: Format
    sha256: str
    size: int
    imported_at: datetime
    item_count: int


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """An item placed on the locker's timeline, with the evidence file it came from."""

    item: Item
    evidence_id: int


@dataclass(frozen=True, slots=True)
class IncidentVersion:
    """One version of an incident the victim wrote down; edits add versions, never replace."""

    occurred_at: datetime | None
    platform: str
    what_happened: str
    accounts: str
    impact: str
    evidence_ids: tuple[int, ...]
    written_at: datetime


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    versions: tuple[IncidentVersion, ...]  # oldest first; the last is the current text

    @property
    def current(self) -> IncidentVersion:
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything in one opened locker, decrypted, for the timeline page and the exports.

    `responsible` lists the identifiers the victim marked as the person responsible; the pattern
    view filters to items whose sender or identifiers match one of them.
    """

    title: str
    created_at: datetime
    evidence: list[EvidenceRecord]
    entries: list[TimelineEntry]
    incidents: list[Incident]
    responsible: tuple[str, ...] = ()
    # Original bytes by evidence id, only filled for the ZIP export.
    originals: Mapping[int, bytes] = field(default_factory=dict)
    # The locker's time zone (IANA name): the incident dates were written in it, and the PDF
    # prints them in it with its name.
    time_zone: str = "UTC"
