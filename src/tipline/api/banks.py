"""Hash-list exchange routes for partners with scope ``hashes``.

``GET /api/v1/banks/<name>/changes?cursor=&limit=``: the bank's entries changed after the cursor
(adds and removes, oldest first), and the cursor to send next. Positions are assigned so that
one becomes visible only after every lower one (``matching.banks.next_change_seqs``): a partner
that stores ``next_cursor`` after applying a page never misses a change, even while imports run.

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

from tipline.api.bearer import authenticate
from tipline.audit.chain import record
from tipline.matching import banks
from tipline.matching.exporters import export_vics
from tipline.matching.models import HashBank
from tipline.partners.models import ApiCredential, Scope

MAX_PAGE = 10_000
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
def changes(request: HttpRequest, name: str) -> JsonResponse:
    credential = authenticate(request, scope=Scope.HASHES)
    if isinstance(credential, JsonResponse):
        return credential
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
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    found = banks.changes_since(bank=bank, cursor=cursor, limit=limit)
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
    if found:
        _served(credential, bank, "changes", len(found))
    return JsonResponse(
        {
            "bank": bank.name,
            "changes": page,
            "next_cursor": str(found[-1].seq if found else cursor),
            "more": len(found) == limit,
        }
    )


@require_GET
def vics(request: HttpRequest, name: str) -> HttpResponse:
    credential = authenticate(request, scope=Scope.HASHES)
    if isinstance(credential, JsonResponse):
        return credential
    bank = _shared_bank(name)
    if bank is None:
        return JsonResponse(NOT_FOUND, status=404)
    out = io.StringIO()
    count = export_vics(bank, out)
    banks.export_recorded(
        actor=f"credential:{credential.pk}", bank=bank, export_format="vics", entries=count
    )
    return HttpResponse(out.getvalue(), content_type="application/json")
