"""Pulling a partner Tipline's bank changes into a local bank.

A pull reads ``GET <url>/api/v1/banks/<bank>/changes?cursor=N`` page by page and applies each
page in ONE transaction together with the new cursor: adds and updates through
``matching.banks.entries_add``, removals through ``entries_remove`` (each audited, counts only).
If a run stops half-way, the cursor is where the last committed page left it, and since both
writes are idempotent, re-applying a page is harmless.

Pages are asked for in the compact form (``format=compact``: plain hashes grouped by operation,
kind and classification, one array of values each), checked a group at a time and written from
plain tuples (``banks.entries_add_values``); a partner that answers in the JSON form (an older
Tipline) is read change by change as before. The serving side orders changes so that a
cursor never skips one (``matching.banks.next_change_seqs``).

Only HTTPS is spoken, with the system's trust store, or ``TIPLINE_EXCHANGE_CA_FILE`` for a
partner with its own CA; plain http only when ``TIPLINE_EXCHANGE_ALLOW_HTTP`` is on (tests and
benchmarks between two instances on loopback). Sources are configured by the operator
(``TIPLINE_HASH_PULLS``, a TOML file), never by a partner, so no partner can point this at an
internal address.
"""

from __future__ import annotations

import json
import ssl
import tomllib
import urllib.parse
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tipline.matching import banks
from tipline.matching.models import (
    CLASSIFICATIONS,
    HEX_DIGITS,
    HEX_LENGTH,
    HashBank,
    HashKind,
    InvalidHash,
    normalise_hash,
)
from tipline.partnerapi.models import Cursor

MAX_PAGE_BYTES = 32 * 1024 * 1024
PAGE = 50_000  # the most a Tipline serves (api.banks.MAX_PAGE)
COMPACT = "compact/1"
TIMEOUT = 60


class PullError(Exception):
    """The partner answered something unusable; the message is fit for an operator."""


@dataclass(frozen=True)
class PullSource:
    url: str
    bank: str  # the partner's bank
    into: str  # our bank
    token: str

    @property
    def key(self) -> str:
        return f"pull {self.url.rstrip('/')} {self.bank}"[:300]


@dataclass
class PullResult:
    pages: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    invalid: int = 0
    cursor: int = 0


def sources() -> list[PullSource]:
    """The configured sources: ``[[pull]]`` tables with url, bank, into, token_file."""
    path = settings.TIPLINE_HASH_PULLS
    if not path:
        return []
    config = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    found = []
    for entry in config.get("pull", []):
        token = Path(entry["token_file"]).read_text(encoding="utf-8").strip()
        found.append(PullSource(entry["url"], entry["bank"], entry["into"], token))
    return found


def _context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.TIPLINE_EXCHANGE_CA_FILE:
        context.load_verify_locations(cafile=settings.TIPLINE_EXCHANGE_CA_FILE)
    return context


def _get_page(source: PullSource, cursor: int, limit: int) -> dict[str, Any]:
    scheme = urllib.parse.urlsplit(source.url).scheme
    if scheme != "https" and not (scheme == "http" and settings.TIPLINE_EXCHANGE_ALLOW_HTTP):
        raise PullError("a hash-list source must be an https:// address")
    bank = urllib.parse.quote(source.bank, safe="")
    query = urllib.parse.urlencode({"cursor": cursor, "limit": limit, "format": "compact"})
    url = f"{source.url.rstrip('/')}/api/v1/banks/{bank}/changes?{query}"
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, headers={"Authorization": f"Bearer {source.token}", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=_context()) as answer:  # noqa: S310
            raw = answer.read(MAX_PAGE_BYTES + 1)
    except OSError as error:
        raise PullError(f"the partner did not answer: {error}") from None
    if len(raw) > MAX_PAGE_BYTES:
        raise PullError("a page of changes was too large")
    try:
        page = json.loads(raw)
    except ValueError:
        raise PullError("the partner's answer is not JSON") from None
    if not isinstance(page, dict) or not isinstance(page.get("changes"), list):
        raise PullError("the partner's answer is not a page of changes")
    if page.get("format") == COMPACT:
        groups = page.get("groups")
        after = page.get("next_cursor")
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise PullError("the partner's answer is not a page of changes")
        if not (isinstance(after, str) and after.isascii() and after.isdigit() and len(after) < 20):
            raise PullError("the partner's answer has no usable next_cursor")
    return page


def _valid_values(kind: HashKind, values: list[Any], result: PullResult) -> list[str]:
    """The values of one group that are ``kind`` hashes, normalised; the rest counted invalid.

    A whole group is checked at once (every item a string of the right length, their joined
    text only hex digits); only a group that fails is checked value by value, to keep the good
    ones. At a million values this is a second instead of most of a minute in ``make_record``.
    """
    width = HEX_LENGTH[kind]
    if (
        all(type(v) is str and len(v) == width for v in values)
        and set("".join(values)) <= HEX_DIGITS
    ):
        return values
    good = []
    for value in values:
        try:
            good.append(normalise_hash(kind.value, value if isinstance(value, str) else "")[1])
        except InvalidHash:
            result.invalid += 1
    return good


def _apply(source: PullSource, bank: HashBank, page: dict[str, Any], result: PullResult) -> int:
    records: list[banks.EntryRecord] = []
    removals: list[tuple[str, str]] = []
    last = result.cursor
    for position, change in enumerate(page["changes"]):
        try:
            if not isinstance(change, dict) or not isinstance(change.get("seq"), int):
                raise InvalidHash("not a change")
            last = max(last, change["seq"])
            record = banks.make_record(
                position=position,
                kind=str(change.get("type", "")),
                value=str(change.get("value", "")),
                classification=str(change.get("classification") or ""),
                quality=change.get("quality"),
                metadata=change.get("metadata") if isinstance(change.get("metadata"), dict) else {},
            )
        except InvalidHash:
            result.invalid += 1
            continue
        if change.get("op") == "remove":
            removals.append((record.kind.value, record.value))
        else:
            records.append(record)
    plain: dict[tuple[HashKind, str], list[str]] = {}
    if page.get("format") == COMPACT:
        last = max(last, int(page["next_cursor"]))
        for group in page["groups"]:
            values = group.get("values")
            try:
                kind = HashKind(str(group.get("type", "")))
            except ValueError:
                kind = None
            classification = str(group.get("classification") or "")
            if (
                not isinstance(values, list)
                or kind is None
                or (classification and classification not in CLASSIFICATIONS)
            ):
                result.invalid += len(values) if isinstance(values, list) else 1
                continue
            values = _valid_values(kind, values, result)
            if group.get("op") == "remove":
                removals += [(kind.value, v) for v in values]
            else:
                plain.setdefault((kind, classification), []).extend(values)
    actor = f"pull:{source.key}"[:150]
    with transaction.atomic():
        for (kind, classification), values in plain.items():
            for start in range(0, len(values), banks.BATCH_SIZE):
                counts = banks.entries_add_values(
                    actor=actor,
                    bank=bank,
                    kind=kind,
                    classification=classification,
                    values=values[start : start + banks.BATCH_SIZE],
                    source_format="tipline-changes",
                )
                result.added += counts.added
                result.updated += counts.updated
                result.skipped += counts.skipped
        for start in range(0, len(records), banks.BATCH_SIZE):
            counts = banks.entries_add(
                actor=actor,
                bank=bank,
                records=records[start : start + banks.BATCH_SIZE],
                source_format="tipline-changes",
            )
            result.added += counts.added
            result.updated += counts.updated
            result.skipped += counts.skipped
        result.removed += banks.entries_remove(
            actor=actor, bank=bank, keys=removals, source=source.key
        )
        Cursor.objects.update_or_create(
            name=source.key, defaults={"position": last, "updated_at": timezone.now()}
        )
    return last


def _local_bank(source: PullSource) -> HashBank:
    try:
        return banks.bank_get(name=source.into)
    except banks.BankNotFound:
        return banks.bank_create(
            actor="system",
            name=source.into,
            default_classification="unknown",
            source=f"pulled from {source.key}",
        )


def _next_cursor(page: dict[str, Any]) -> int | None:
    """The page's own ``next_cursor`` if it says there is more; None otherwise."""
    after = page.get("next_cursor")
    if not page.get("more") or not isinstance(after, str):
        return None
    if not (after.isascii() and after.isdigit() and len(after) < 20):
        return None
    return int(after)


def pull(source: PullSource, *, limit: int = PAGE, max_pages: int | None = None) -> PullResult:
    """Apply the source's changes after our cursor until it says there are no more.

    While a page is written, the next one is already being asked for (one page ahead, in a
    thread that only speaks HTTP): the partner builds page N+1 while we write page N, so a pull
    takes about the longer of the two instead of their sum. The page fetched ahead is used only
    if our cursor after writing is the one it was asked for; otherwise it is asked again.
    """
    bank = _local_bank(source)
    row = Cursor.objects.filter(name=source.key).first()
    result = PullResult(cursor=row.position if row else 0)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hashpull") as ahead:
        pending: tuple[int, Future[dict[str, Any]]] | None = None
        while max_pages is None or result.pages < max_pages:
            if pending is not None and pending[0] == result.cursor:
                page = pending[1].result()
            else:
                page = _get_page(source, result.cursor, limit)
            pending = None
            result.pages += 1
            if not page["changes"] and not any(g.get("values") for g in page.get("groups", [])):
                break  # "more" with an empty page would loop for ever
            after = _next_cursor(page)
            if after is not None and (max_pages is None or result.pages < max_pages):
                pending = (after, ahead.submit(_get_page, source, after, limit))
            before = result.cursor
            result.cursor = _apply(source, bank, page, result)
            if not page.get("more") or result.cursor <= before:
                break
        if pending is not None:
            pending[1].cancel()
    return result
