"""`POST /api/v1/match`: look hashes or one file up in the hash banks (staff and partners).

An adapter like the other API views: authenticate (tipline.partners, so this package never
imports staff code) -> parse -> charge the credential's rate limit -> match -> audit -> answer.

Hostile input is refused before any look-up: at most ``MAX_QUERIES`` hashes, each of a known
type with exactly the right number of hex digits (no whitespace, no trimming), ``max_distance``
an integer from 0 to the configured PDQ radius, JSON bodies limited by Django's body limit,
uploads by ``TIPLINE_MAX_FILE_BYTES`` through the bounded in-memory upload handler. An uploaded
file is hashed in memory (``hash_bytes``: pixel-limited decoding) and never stored; its declared
content type is ignored, the bytes are sniffed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tipline.api.parsing import BadBody, json_object, multipart_body
from tipline.matching import banks, matcher
from tipline.matching.hashing import FileHashes, hash_bytes
from tipline.matching.models import HashKind, InvalidHash, normalise_hash
from tipline.partners import actions
from tipline.partners.auth import Forbidden, Unauthorized, credential_for_request
from tipline.partners.models import Scope

MAX_QUERIES = 100
_MULTIPART_OVERHEAD = 64 * 1024  # part headers, boundaries and a max_distance field
HASH_TYPES = tuple(HashKind.values)
UNAUTHORIZED = {"error": "unauthorized", "message": "A valid API token is required."}
FORBIDDEN = {"error": "insufficient_scope", "message": "This token may not look up hashes."}
RATE_LIMITED = {"error": "rate_limited", "message": "Too many look-ups; wait a minute."}


@dataclass
class Query:
    hashes: list[tuple[HashKind, str]] = field(default_factory=list)
    file: FileHashes | None = None
    size: int = 0
    max_distance: int = 31

    @property
    def lookups(self) -> int:
        return len(self.hashes) or 1


_MISSING = object()


def _max_distance(value: Any, *, form: bool = False) -> int:
    limit = matcher.radius()
    if value is _MISSING:
        return limit
    # Form fields are text; in JSON only a number is a number.
    if form and isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 3:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        message = _("Give an integer from 0 to %(limit)d.") % {"limit": limit}
        raise BadBody({"max_distance": [message]})
    return value


def _hash_item(position: int, item: Any, errors: dict[str, list[str]]) -> tuple[HashKind, str]:
    where = f"hashes.{position}"
    if not isinstance(item, dict) or set(item) != {"type", "value"}:
        errors[where] = [_('Each item is an object with exactly "type" and "value".')]
        return HashKind.MD5, ""
    kind, value = item["type"], item["value"]
    if not isinstance(kind, str) or kind not in HASH_TYPES:
        errors[where + ".type"] = [_("Choose one of: %(t)s.") % {"t": ", ".join(HASH_TYPES)}]
        return HashKind.MD5, ""
    if not isinstance(value, str) or value != value.strip():
        errors[where + ".value"] = [_("Expected hex digits without spaces.")]
        return HashKind.MD5, ""
    try:
        return normalise_hash(kind, value)
    except InvalidHash as invalid:
        # The reason names the type and the length, never the value.
        errors[where + ".value"] = [str(invalid)]
        return HashKind.MD5, ""


def _json_query(request: HttpRequest) -> Query:
    body = json_object(request)
    unknown = set(body) - {"hashes", "max_distance"}
    if unknown:
        raise BadBody({name[:40]: [_("Unknown field.")] for name in sorted(unknown)[:10]})
    items = body.get("hashes")
    if not isinstance(items, list) or not items:
        raise BadBody({"hashes": [_("Give a list of 1 to %(n)d hashes.") % {"n": MAX_QUERIES}]})
    if len(items) > MAX_QUERIES:
        raise BadBody({"hashes": [_("At most %(n)d hashes a request.") % {"n": MAX_QUERIES}]})
    errors: dict[str, list[str]] = {}
    hashes = [_hash_item(i, item, errors) for i, item in enumerate(items)]
    try:
        max_distance = _max_distance(body.get("max_distance", _MISSING))
    except BadBody as exc:
        errors.update(exc.errors)
    if errors:
        raise BadBody(errors)
    return Query(hashes=hashes, max_distance=max_distance)


def _file_query(request: HttpRequest) -> Query:
    # One file is all this route takes: refuse a larger body before parsing it, rather than
    # buffer the ten files the site-wide request limit would allow.
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.TIPLINE_MAX_FILE_BYTES + _MULTIPART_OVERHEAD:
        raise BadBody({"file": [_("The file is too large.")]}, status=413)
    body = multipart_body(request, file_field="file")
    fields, files = body.data, body.files
    errors: dict[str, list[str]] = {}
    for name in sorted((set(fields) | set(files)) - {"file", "max_distance"})[:10]:
        errors[name[:40]] = [_("Unknown field.")]
    uploads = files.getlist("file")
    if len(uploads) != 1:
        errors["file"] = [_("Send exactly one file in the part named 'file'.")]
    if len(fields.getlist("max_distance")) > 1:
        errors["max_distance"] = [_("Give max_distance once.")]
    if errors:
        raise BadBody(errors)
    max_distance = _max_distance(fields.get("max_distance", _MISSING), form=True)
    data = uploads[0].read()
    if not data:
        raise BadBody({"file": [_("The file is empty.")]})
    return Query(file=hash_bytes(data), size=len(data), max_distance=max_distance)


def _describe(found: list[matcher.Match], max_distance: int) -> list[dict[str, Any]]:
    return [
        {
            "bank": m.bank,
            "entry": m.entry_id,
            "type": m.kind,
            "classification": m.classification,
            "distance": m.distance,
        }
        for m in found
        if m.distance <= max_distance
    ]


def _lookup(kind: HashKind, value: str) -> list[matcher.Match]:
    if kind == HashKind.PDQ:
        return matcher.match_pdq(value)
    return [
        matcher.Match(
            entry_id=e.pk,
            bank=e.bank.name,
            kind=e.kind,
            classification=e.classification or e.bank.default_classification,
            distance=0,
        )
        for e in banks.exact_lookup(kind.value, value)
    ]


def _answer(query: Query) -> tuple[dict[str, Any], list[int]]:
    if query.file is not None:
        hashes = query.file
        matches = _describe(matcher.match_hashes(hashes), query.max_distance)
        computed = {
            "size": query.size,
            "kind": hashes.kind,
            "sha256": hashes.sha256,
            "md5": hashes.md5,
            "sha1": hashes.sha1,
            "pdq": hashes.pdq,
            "pdq_quality": hashes.pdq_quality,
            "pdq_refused": hashes.refused_reason,
        }
        return {"file": computed, "matches": matches}, [m["entry"] for m in matches]
    results = []
    entries: list[int] = []
    for kind, value in query.hashes:
        matches = _describe(_lookup(kind, value), query.max_distance)
        entries += [m["entry"] for m in matches]
        results.append({"type": kind.value, "value": value, "matches": matches})
    return {"results": results}, entries


def _unauthorized() -> JsonResponse:
    response = JsonResponse(UNAUTHORIZED, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="tipline"'
    return response


@csrf_exempt
@require_POST
def match(request: HttpRequest) -> JsonResponse:
    try:
        credential = credential_for_request(request, scope=Scope.MATCH)
    except Unauthorized:
        return _unauthorized()
    except Forbidden:
        response = JsonResponse(FORBIDDEN, status=403)
        response["WWW-Authenticate"] = 'Bearer realm="tipline", error="insufficient_scope"'
        return response
    try:
        if (request.content_type or "") == "multipart/form-data":
            query = _file_query(request)
        else:
            query = _json_query(request)
        actions.credential_charge(credential=credential, lookups=query.lookups)
    except BadBody as exc:
        return JsonResponse({"errors": exc.errors}, status=exc.status)
    except actions.RateLimited:
        return JsonResponse(RATE_LIMITED, status=429, headers={"Retry-After": "60"})
    body, entries = _answer(query)
    actions.match_recorded(
        credential=credential,
        queries=query.lookups,
        matches=len(entries),
        entries=entries,
        upload=query.file is not None,
    )
    return JsonResponse(body)
