"""The bearer-token check of the partner routes, answered the same way on every route."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from tipline.partners.auth import Forbidden, Unauthorized, credential_for_request
from tipline.partners.models import ApiCredential

UNAUTHORIZED = {"error": "unauthorized", "message": "A valid API token is required."}
FORBIDDEN = {"error": "insufficient_scope", "message": "This token may not use this route."}


def authenticate(request: HttpRequest, *, scope: str) -> ApiCredential | JsonResponse:
    """The request's credential holding ``scope``, or the 401/403 answer to give instead."""
    try:
        return credential_for_request(request, scope=scope)
    except Unauthorized:
        response = JsonResponse(UNAUTHORIZED, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="tipline"'
        return response
    except Forbidden:
        response = JsonResponse(FORBIDDEN, status=403)
        response["WWW-Authenticate"] = 'Bearer realm="tipline", error="insufficient_scope"'
        return response
