"""One answer when Tipline cannot store what was sent: 503, nothing saved, try again later.

The evidence store raises StorageUnavailable (disk full, S3 unreachable or refusing) and the
database a disk-full error or, while PostgreSQL restarts, a refused or cut connection; either way
the request's transaction did not commit, so nothing was acknowledged and nothing half-stored.
The reporter's form pages catch this themselves to keep their words (intake/views.py);
everything else gets this page, or under /api/ the documented JSON error
``storage_unavailable`` (api/openapi.py), with Retry-After.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _lazy

from tipline.db.full import out_of_space
from tipline.db.unreachable import database_unreachable
from tipline.storage import StorageUnavailable

log = logging.getLogger(__name__)

# What a view catches to give its own answer; is_unavailable then tells which ones are ours.
ERRORS = (StorageUnavailable, DatabaseError)
RETRY_AFTER_SECONDS = 60
API_ERROR = "storage_unavailable"
API_MESSAGE = _lazy(
    "We cannot store what you sent just now; nothing was saved. Send it again in a few minutes."
)


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, StorageUnavailable) or (
        isinstance(exc, DatabaseError) and (out_of_space(exc) or database_unreachable(exc))
    ):
        # The error's kind and the store's words only: never the request.
        log.warning("storage unavailable: %s: %s", type(exc).__name__, exc)
        return True
    return False


def with_retry_after(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        answer: HttpResponse = JsonResponse(
            {"error": API_ERROR, "message": str(API_MESSAGE)}, status=503
        )
    else:
        answer = render(request, "503.html", status=503)
    return with_retry_after(answer)
