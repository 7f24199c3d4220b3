"""The bearer-token check of the partner routes, answered the same way on every route."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.http import HttpRequest, HttpResponse, JsonResponse

from tipline.partners.auth import Forbidden, Unauthorized, credential_for_request
from tipline.partners.models import ApiCredential

P = ParamSpec("P")

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


def with_credential(
    scope: str,
) -> Callable[
    [Callable[Concatenate[HttpRequest, ApiCredential, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """Decorate a partner route: the view gets the credential holding ``scope`` as its second
    argument, or the client gets the 401/403 answer and the view never runs."""

    def decorate(
        view: Callable[Concatenate[HttpRequest, ApiCredential, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            credential = authenticate(request, scope=scope)
            if isinstance(credential, JsonResponse):
                return credential
            return view(request, credential, *args, **kwargs)

        return wrapped

    return decorate
