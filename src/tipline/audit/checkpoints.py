"""Signed checkpoints of the audit chain's head, kept outside the database.

The HMAC chain (``chain.py``) shows an entry edited, removed from the middle, inserted or moved.
It cannot show the last entries deleted, nor a whole chain rebuilt by someone holding
``audit.key``: both leave a chain that verifies. A checkpoint fixes the chain up to one entry:

    tipline-audit-checkpoint v1 seq=1234 head=<64 hex> entries=1234 time=2026-12-01T10:00:00Z
    key=<16 hex> sig=<base64 Ed25519 signature of everything before " sig=">

(one line). ``take`` verifies the chain since the previous checkpoint, signs the new head with the
checkpoint key (``crypto/signing.py``, separate from ``audit.key``) and publishes the line to the
checkpoint log in ``TIPLINE_AUDIT_CHECKPOINT_DIR``, to syslog and, if configured, by e-mail
(``sinks.py``). ``verify_against`` checks each checkpoint's signature, then walks the chain
requiring every checkpointed entry to carry its checkpointed hash and the log to reach the newest
one: a truncation or a rewrite that reaches back to a checkpoint fails, naming that checkpoint.

What stays open (docs/threat-model.md): entries written after the newest checkpoint that left the
machine can still be removed or rewritten unseen; ``TIPLINE_AUDIT_CHECKPOINT_MINUTES`` bounds that
window. Someone with the keys can also rewrite the local checkpoint log, so the copies that count
are the ones held elsewhere (another disk, a syslog server, an auditor's mailbox).
"""

from __future__ import annotations

import base64
import binascii
import email
import email.message
import email.policy
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from tipline.audit import chain
from tipline.crypto import signing

MARKER = "tipline-audit-checkpoint"
LOG_NAME = "audit-checkpoints.log"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Searched (not matched) in each line, so that a syslog file or a saved e-mail, with their own
# prefixes, can be given to `tipline audit verify --against` as they are.
_LINE = re.compile(
    MARKER + r" v1 seq=(?P<seq>\d{1,18}) head=(?P<head>[0-9a-f]{64}) entries=(?P<entries>\d{1,18})"
    r" time=(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) key=(?P<key>[0-9a-f]{16})"
    r" sig=(?P<sig>[A-Za-z0-9+/]{86}==)(?![A-Za-z0-9+/=])"
)
# The first line of a saved e-mail: a header field name and a colon.
_HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9-]{0,75}:[ \t]")
# A checkpoint line is about 270 characters; a longer line holding the marker is not one of ours.
_MAX_LINE = 4096


class CheckpointInvalid(Exception):
    """A checkpoint is malformed, signed by another key, or its signature does not verify."""


class CheckpointLogUnreadable(CheckpointInvalid):
    """The local checkpoint log exists but cannot be read (a mount down, wrong permissions)."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head: str
    entries: int
    time: datetime
    key_id: str
    signature: bytes = b""

    def message(self) -> str:
        """The signed text: every field, in a fixed order and format."""
        return (
            f"{MARKER} v1 seq={self.seq} head={self.head} entries={self.entries}"
            f" time={self.time.astimezone(UTC).strftime(_TIME_FORMAT)} key={self.key_id}"
        )

    def line(self) -> str:
        return f"{self.message()} sig={base64.b64encode(self.signature).decode()}"

    def describe(self) -> str:
        return f"checkpoint of entry {self.seq} ({self.time.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"


@dataclass(frozen=True)
class Located:
    """A checkpoint read from a file, with where it was found (for messages)."""

    checkpoint: Checkpoint
    source: str


def sign(*, seq: int, head: str, now: datetime) -> Checkpoint:
    unsigned = Checkpoint(
        seq=seq,
        head=head,
        entries=seq,  # the chain is dense: entry n is the n-th entry
        time=now.replace(microsecond=0),
        key_id=signing.key_id(signing.public_key()),
    )
    return replace(unsigned, signature=signing.sign(unsigned.message().encode()))


def parse_line(line: str) -> Checkpoint | None:
    """The checkpoint in ``line``, None if it holds none; CheckpointInvalid if it holds a
    damaged one (the marker is there, the rest does not fit)."""
    if MARKER not in line:
        return None
    found = _LINE.search(line[:_MAX_LINE]) if len(line) <= _MAX_LINE else None
    if found is None:
        raise CheckpointInvalid("a line names a checkpoint but is not a well-formed one")
    try:
        signature = base64.b64decode(found["sig"], validate=True)
        time = datetime.strptime(found["time"], _TIME_FORMAT).replace(tzinfo=UTC)
    except (binascii.Error, ValueError) as exc:
        raise CheckpointInvalid("a checkpoint's time or signature is malformed") from exc
    checkpoint = Checkpoint(
        seq=int(found["seq"]),
        head=found["head"],
        entries=int(found["entries"]),
        time=time,
        key_id=found["key"],
        signature=signature,
    )
    if checkpoint.entries != checkpoint.seq:
        raise CheckpointInvalid(f"{checkpoint.describe()} counts {checkpoint.entries} entries")
    return checkpoint


def read(path: Path) -> list[Located]:
    """Every checkpoint in a file: a checkpoint log, a syslog file or a saved e-mail."""
    with path.open("rb") as stream:
        first = stream.readline(_MAX_LINE)
        stream.seek(0)
        if _HEADER.match(first):
            # A saved message: its body is usually quoted-printable, which splits the line.
            message = email.message_from_binary_file(stream, policy=email.policy.default)
            return _checkpoints_in(_mail_text(message), path)
        # Streamed: a syslog file can be large.
        return _checkpoints_in((raw.decode("utf-8", errors="replace") for raw in stream), path)


def _checkpoints_in(lines: Iterable[str], path: Path) -> list[Located]:
    found: list[Located] = []
    for number, line in enumerate(lines, start=1):
        source = f"{path}:{number}"
        try:
            checkpoint = parse_line(line)
        except CheckpointInvalid as exc:
            raise CheckpointInvalid(f"{source}: {exc}") from None
        if checkpoint is not None:
            found.append(Located(checkpoint, source))
    return found


def _mail_text(message: email.message.Message) -> list[str]:
    lines: list[str] = []
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                try:
                    text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
                except LookupError:  # an unknown charset name: checkpoints are ASCII anyway
                    text = payload.decode("ascii", errors="replace")
                lines.extend(text.splitlines())
    return lines


def check_signatures(located: Iterable[Located], public: bytes) -> None:
    """Raise CheckpointInvalid at the first checkpoint not signed by ``public``."""
    expected_id = signing.key_id(public)
    for item in located:
        checkpoint = item.checkpoint
        if checkpoint.key_id != expected_id:
            raise CheckpointInvalid(
                f"{item.source}: {checkpoint.describe()} is signed by key {checkpoint.key_id},"
                f" not by {expected_id}"
            )
        try:
            signing.verify(public, checkpoint.message().encode(), checkpoint.signature)
        except signing.SignatureInvalid:
            raise CheckpointInvalid(
                f"{item.source}: the signature of the {checkpoint.describe()} does not verify"
                " (the line was altered or forged)"
            ) from None


def anchors(located: Iterable[Located]) -> dict[int, str]:
    """Entry number -> hash. Two validly signed checkpoints that disagree mean the signing key
    signed a rebuilt chain: that is refused, not resolved."""
    by_seq: dict[int, Located] = {}
    for item in located:
        earlier = by_seq.setdefault(item.checkpoint.seq, item)
        if earlier.checkpoint.head != item.checkpoint.head:
            raise CheckpointInvalid(
                f"{earlier.source} and {item.source}: two signed checkpoints of entry"
                f" {item.checkpoint.seq} name different hashes (the chain was rebuilt and"
                " signed again)"
            )
    return {seq: item.checkpoint.head for seq, item in by_seq.items()}


@dataclass(frozen=True)
class AgainstResult:
    chain: chain.VerifyResult
    checkpoints: int
    newest: Checkpoint | None


def verify_against(
    located: list[Located], *, public: bytes | None = None, progress: object = None
) -> AgainstResult:
    """Check the checkpoints' signatures, then the whole chain against them.

    Raises CheckpointInvalid (a checkpoint is bad) or chain.AuditBroken (the log is).
    """
    key = public if public is not None else signing.public_key()
    check_signatures(located, key)
    result = chain.verify(progress, anchors=anchors(located))
    newest = max((item.checkpoint for item in located), key=lambda c: c.seq, default=None)
    return AgainstResult(chain=result, checkpoints=len(located), newest=newest)


def log_path() -> Path:
    return Path(settings.TIPLINE_AUDIT_CHECKPOINT_DIR) / LOG_NAME


def local() -> list[Located]:
    """The checkpoints in this installation's own checkpoint log ([] before the first)."""
    path = log_path()
    try:
        return read(path)
    except FileNotFoundError:
        return []
    except OSError as exc:
        # Unreadable is not "empty": treating it so would let a checkpoint skip the check.
        raise CheckpointLogUnreadable(f"cannot read {path}: {exc.strerror}") from None


def take(*, now: datetime | None = None) -> Checkpoint:
    """Verify the chain since the previous local checkpoint and sign its head.

    The chain is checked first so that a checkpoint never vouches for a log that no longer
    extends the previous checkpoint (a truncation since then raises chain.AuditBroken). Without a
    previous checkpoint the whole chain is walked. Publishing is the caller's (``sinks.publish``).
    """
    try:
        previous = _newest_local()
    except CheckpointLogUnreadable:
        # The other places (syslog, e-mail) still deserve a checkpoint: walk the whole chain
        # instead, and let the file's failed delivery be reported by the caller.
        previous = None
    since = (previous.seq, previous.head) if previous is not None else None
    result = chain.verify(since=since)
    return sign(seq=result.head_seq, head=result.head_hash, now=now or timezone.now())


def _newest_local() -> Checkpoint | None:
    located = local()
    if not located:
        return None
    check_signatures(located[-1:], signing.public_key())
    return located[-1].checkpoint
