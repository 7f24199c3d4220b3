"""Reading a request body: one reader, and one answer for every way it can fail.

Every public view that takes a form post (report, follow-up, evidence locker) and the API's
multipart routes read the body through ``read_body``. What can go wrong falls in two kinds:

* **The body as a whole cannot be read** — larger than the limits, more fields than any form has,
  more files than the hard cap, or malformed multipart (a part header over Django's 1 KB, such as
  a file name of thousands of characters). Nothing of it is kept: ``BodyRefused`` is raised, and
  ``refused_response`` answers with a page in the reader's language (JSON under ``/api/``) that
  says what happened and what to do. Never a bare status with an empty body.
* **A file cannot be taken** — over the per-file limit, or past the number of files one form
  may carry. The upload handler (``tipline.web.uploads``) skips it and the rest is read, so the
  view gets the words and can show the form again with the file field marked (``Body.refused``).

Chunked request bodies (``Transfer-Encoding: chunked``, no ``Content-Length``) are refused by the
front (nginx, ``tipline.ops.front``) with 411. Where gunicorn takes them itself (``serve
--no-front`` behind another proxy) they are read here, bounded, before any view runs
(``read_chunked``): Django would otherwise read them as empty.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import UploadedFile
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from tipline.web.forms import too_large_message, too_many_message
from tipline.web.uploads import BoundedMemoryUploadHandler, RefusedFile

_CHUNK = 64 * 1024


class BodyRefused(Exception):
    """Nothing of the body was read; ``message`` says why and what to do."""

    def __init__(self, *, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @classmethod
    def too_large(cls) -> BodyRefused:
        message = _(
            "What you sent is too large. Files can be up to %(mb)d MB each, %(count)d at most. "
            "Nothing was saved: go back, remove or shrink the largest files, and send again."
        ) % {
            "mb": settings.TIPLINE_MAX_FILE_BYTES // (1024 * 1024),
            "count": settings.TIPLINE_MAX_FILES,
        }
        return cls(status=413, message=message)

    @classmethod
    def too_many_fields(cls) -> BodyRefused:
        message = _(
            "What you sent has far more fields than our forms have, so it was not read. Nothing "
            "was saved: go back, reload the form and send it again."
        )
        return cls(status=400, message=message)

    @classmethod
    def malformed(cls) -> BodyRefused:
        message = _(
            "What you sent could not be read: part of it was malformed, for example a file name "
            "of hundreds of characters. Nothing was saved: go back, rename or leave out that "
            "file, and send again."
        )
        return cls(status=400, message=message)


@dataclass(frozen=True)
class Body:
    data: QueryDict
    files: MultiValueDict[str, UploadedFile[Any]]
    refused: tuple[RefusedFile, ...]

    def refusals(self, field: str) -> list[str]:
        """One message per problem with the files sent in ``field`` (empty if none)."""
        refused = [r for r in self.refused if r.field == field]
        messages = [too_large_message(r.name) for r in refused if r.reason == "too_large"]
        extra = sum(r.reason == "too_many" for r in refused)
        if extra:
            sent = len(self.files.getlist(field)) + extra
            sent += sum(r.reason == "too_large" for r in refused)
            messages.append(too_many_message(sent))
        return messages

    @property
    def too_large(self) -> bool:
        return any(r.reason == "too_large" for r in self.refused)


def read_body(request: HttpRequest) -> Body:
    """The posted fields and files, or ``BodyRefused`` (answer it with ``refused_response``)."""
    try:
        data, files = request.POST, request.FILES
    except (RequestDataTooBig, TooManyFilesSent):
        raise BodyRefused.too_large() from None
    except TooManyFieldsSent:
        raise BodyRefused.too_many_fields() from None
    except MultiPartParserError:
        raise BodyRefused.malformed() from None
    # Handlers exist only once a multipart body was parsed; otherwise there is nothing refused.
    handlers = request.upload_handlers if request.content_type == "multipart/form-data" else []
    refused = tuple(
        r for h in handlers if isinstance(h, BoundedMemoryUploadHandler) for r in h.refused
    )
    return Body(data=data, files=files, refused=refused)


def refused_response(request: HttpRequest, refused: BodyRefused) -> HttpResponse:
    """The one answer to an unreadable body: JSON for the API, a page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse({"errors": {"__all__": [refused.message]}}, status=refused.status)
    context = {"message": refused.message, "status": refused.status}
    html = render_to_string("web/refused.html", context, request=request)
    return HttpResponse(html, status=refused.status)


def check_length(request: HttpRequest) -> None:
    """Refuse a body over the limit before anything reads it; read a chunked one, bounded.

    Raises ``BodyRefused``. Runs in ``RequestSizeLimitMiddleware``, before any view.
    """
    raw = request.META.get("CONTENT_LENGTH") or ""
    if raw:
        try:
            length = int(raw)
        except ValueError:
            raise BodyRefused.malformed() from None
        if length < 0:
            raise BodyRefused.malformed()
        if length > settings.TIPLINE_MAX_REQUEST_BYTES:
            raise BodyRefused.too_large()
        return
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        read_chunked(request)


def read_chunked(request: HttpRequest) -> None:
    """Buffer a chunked body (decoded by the server) up to its limit, and give it a length.

    Django reads ``Content-Length`` bytes of a body, and a chunked request has none: without this
    a chunked JSON body reached the view as empty ("not valid JSON"). Files may come this way up
    to the whole-request limit; anything else up to Django's limit for bodies held in memory.
    Buffered in memory only, like every upload.
    """
    if request.content_type == "multipart/form-data":
        limit = int(settings.TIPLINE_MAX_REQUEST_BYTES)
    else:
        limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or settings.TIPLINE_MAX_REQUEST_BYTES)
    # The server's own input stream (gunicorn decodes the chunks); WSGIRequest keeps it here.
    source = request.META["wsgi.input"]
    buffer = io.BytesIO()
    while True:
        piece = source.read(min(_CHUNK, limit + 1 - buffer.tell()))
        if not piece:
            break
        buffer.write(piece)
        if buffer.tell() > limit:
            raise BodyRefused.too_large()
    size = buffer.tell()
    buffer.seek(0)
    request.META["CONTENT_LENGTH"] = str(size)
    # Django keeps the body stream in this (private, long-stable) attribute; the replacement is
    # exactly what it builds itself for a body with a known length.
    request._stream = LimitedStream(buffer, size)  # type: ignore[assignment]
