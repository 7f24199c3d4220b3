"""`POST /api/v1/exchange/inbound`: a partner hotline forwards a report or an outcome update.

Mutual credentials: the caller presents the bearer token we issued to that hotline (scope
``exchange``), *and* the body must carry a valid Ed25519 signature from the key configured for
that same hotline (``Tipline-Signature``). The signature is checked before the body is parsed.
Answers are JSON: ``{"reference", "status"}`` (status ``filed``, ``linked``, ``already`` or
``outcome``) or ``{"error", "message"}``.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tipline.exchange import actions, document
from tipline.partners.auth import Forbidden, Unauthorized, credential_for_request
from tipline.partners.models import Scope

UNAUTHORIZED = {"error": "unauthorized", "message": "A valid exchange credential is required."}
FORBIDDEN = {"error": "insufficient_scope", "message": "This token may not forward reports."}


def _refused(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": "refused", "message": message}, status=status)


def _body(request: HttpRequest) -> bytes:
    # Read the stream ourselves: documents with files exceed the 1 MB form-body limit on purpose,
    # and the declared length is checked first so a large body is refused before it is read.
    try:
        declared = int(request.headers.get("Content-Length", ""))
    except ValueError:
        raise document.DocumentRefused("send a Content-Length") from None
    if declared < 0 or declared > document.MAX_BODY:
        raise document.DocumentRefused("the document is too large")
    body = request.read(declared + 1)
    if len(body) != declared:
        raise document.DocumentRefused("the body does not match its Content-Length")
    return body


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> JsonResponse:
    try:
        credential = credential_for_request(request, scope=Scope.EXCHANGE)
    except Unauthorized:
        return JsonResponse(UNAUTHORIZED, status=401)
    except Forbidden:
        return JsonResponse(FORBIDDEN, status=403)
    hotline = actions.hotline_for_credential(credential)
    if hotline is None:
        return JsonResponse(FORBIDDEN, status=403)
    if (request.content_type or "") != "application/json":
        return _refused("Send the document as application/json.", status=415)
    signature = request.headers.get(document.SIGNATURE_HEADER, "")
    try:
        body = _body(request)
        if not signature:
            raise document.DocumentRefused(
                f"the document is not signed ({document.SIGNATURE_HEADER})"
            )
        document.verify_signature(signature, body, hotline.public_key)
        received = actions.inbound_receive(hotline=hotline, parsed=document.parse(body))
    except document.DocumentRefused as exc:
        return _refused(str(exc))
    return JsonResponse({"reference": received.reference, "status": received.status})
