"""Hash-list exchange routes for partners with scope ``hashes``.

``GET /api/v1/banks/<name>/changes?cursor=&limit=&format=``: the bank's entries changed after the
cursor (adds and removes, oldest first), and the cursor to send next. ``format=compact`` (what
``tipline hashpull`` asks for) gives the same changes grouped by operation, kind and
classification, the values of a group in one array: a page of plain hashes then encodes,
travels and decodes as a few long lists of strings instead of one object per change. Changes
with quality or metadata stay in full form in ``changes``. The JSON form stays the default.
Positions are assigned so that one becomes visible only after every lower one
(``matching.banks.next_change_seqs``): a partner that stores ``next_cursor`` after applying a
page never misses a change, even while imports run.

``GET /api/v1/banks/<name>/vics``: the whole bank's active entries as VICS JSON 2.0.

Only banks named in ``TIPLINE_SHARED_BANKS`` are offered: most lists are licensed for the
hotline's own use, so sharing one is a deliberate setting, and every other name (existing or
not) is the same 404. Every answer is audited (counts only).
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tipline.api.bearer import with_credential
from tipline.audit.chain import record
from tipline.matching import banks
from tipline.matching.exporters import export_vics
from tipline.matching.models import HashBank
from tipline.partners.models import ApiCredential, Scope

# Bounded so that a page (about 5 MB of JSON at 50,000 changes) is one quick query and one
# transaction on the puller's side; bigger pages saved little more in the benchmark.
MAX_PAGE = 50_000
FORMATS = ("json", "compact")
COMPACT_VERSION = "compact/1"
MAX_CURSOR = 2**63 - 1
NOT_FOUND = {"error": "not_found", "message": "No shared bank has this name."}


def _shared_bank(name: str) -> HashBank | None:
    if name not in settings.TIPLINE_SHARED_BANKS:
        return None
    try:
        return banks.bank_get(name=name)
    except banks.BankNotFound:
        return None


def _number(request: HttpRequest, name: str, default: int, top: int) -> int:
    values = request.GET.getlist(name)
    if not values:
        return default
    text = values[-1]
    if len(values) > 1 or not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise ValueError(name)
    number = int(text)
    if number > top:
        raise ValueError(name)
    return number


def _served(credential: ApiCredential, bank: HashBank, what: str, count: int) -> None:
    with transaction.atomic():
        record(
            actor=f"credential:{credential.pk}",
            action="hashes.served",
            target_type="hash_bank",
            target_id=bank.pk,
            details={"what": what, "entries": count},
        )


@require_GET
@with_credential(Scope.HASHES)
def changes(request: HttpRequest, credential: ApiCredential, name: str) -> HttpResponse:
    bank = _shared_bank(name)
    if bank is None:
        return JsonResponse(NOT_FOUND, status=404)
    errors: dict[str, list[str]] = {}
    try:
        cursor = _number(request, "cursor", 0, MAX_CURSOR)
    except ValueError:
        cursor = 0
        errors["cursor"] = [_("Give the next_cursor of the previous page, or 0.")]
    try:
        limit = max(1, _number(request, "limit", MAX_PAGE, MAX_PAGE))
    except ValueError:
        limit = MAX_PAGE
        errors["limit"] = [_("Give a whole number from 1 to %(n)d.") % {"n": MAX_PAGE}]
    page_format = request.GET.getlist("format") or ["json"]
    if len(page_format) > 1 or page_format[0] not in FORMATS:
        errors["format"] = [_("Give json or compact.")]
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    found = banks.changes_since(bank=bank, cursor=cursor, limit=limit)
    if found:
        _served(credential, bank, "changes", len(found))
    next_cursor = str(found[-1].seq if found else cursor)
    more = len(found) == limit
    if page_format[0] == "compact":
        return JsonResponse(_compact(bank, found, next_cursor, more))
    default = bank.default_classification
    # "quality" and "metadata" only when set: most entries of a large list have neither, and
    # leaving them out cuts a page by a third (encoding, transfer and decoding).
    page: list[dict[str, Any]] = []
    for c in found:
        change: dict[str, Any] = {
            "seq": c.seq,
            "op": "remove" if c.removed else "add",
            "type": c.kind,
            "value": c.value,
            "classification": c.classification or default,
        }
        if c.quality is not None:
            change["quality"] = c.quality
        if c.metadata:
            change["metadata"] = c.metadata
        page.append(change)
    return JsonResponse(
        {"bank": bank.name, "changes": page, "next_cursor": next_cursor, "more": more}
    )


def _compact(
    bank: HashBank, found: list[banks.BankChange], next_cursor: str, more: bool
) -> dict[str, Any]:
    """The compact page: each entry once, as in the JSON form, but plain hashes grouped.

    Within a page every (kind, value) appears once, so the order of its changes does not matter
    to a mirror that applies them as idempotent upserts and removals; ``next_cursor`` says where
    the page ends (the compact form carries no ``seq`` per change).
    """
    default = bank.default_classification
    groups: dict[tuple[str, str, str], list[str]] = {}
    full: list[dict[str, Any]] = []
    for c in found:
        op = "remove" if c.removed else "add"
        classification = c.classification or default
        if c.quality is None and not c.metadata:
            key = (op, c.kind, classification)
            values = groups.get(key)
            if values is None:
                values = groups[key] = []
            values.append(c.value)
            continue
        change: dict[str, Any] = {
            "seq": c.seq,
            "op": op,
            "type": c.kind,
            "value": c.value,
            "classification": classification,
        }
        if c.quality is not None:
            change["quality"] = c.quality
        if c.metadata:
            change["metadata"] = c.metadata
        full.append(change)
    return {
        "bank": bank.name,
        "format": COMPACT_VERSION,
        "groups": [
            {"op": op, "type": kind, "classification": cls, "values": values}
            for (op, kind, cls), values in groups.items()
        ],
        "changes": full,
        "next_cursor": next_cursor,
        "more": more,
    }


@require_GET
@with_credential(Scope.HASHES)
def vics(request: HttpRequest, credential: ApiCredential, name: str) -> HttpResponse:
    bank = _shared_bank(name)
    if bank is None:
        return JsonResponse(NOT_FOUND, status=404)
    out = io.StringIO()
    count = export_vics(bank, out)
    banks.export_recorded(
        actor=f"credential:{credential.pk}", bank=bank, export_format="vics", entries=count
    )
    return HttpResponse(out.getvalue(), content_type="application/json")
