"""The CyberTipline-compatible reporting endpoint: ``/ispws/…``, NCMEC's protocol, unchanged.

An integration written for NCMEC's Reporting API can point at Tipline: HTTP Basic with a partner
credential holding the ``cybertipline`` scope on every call, XML in and out, the protocol's
numeric response codes (docs/cybertipline.md lists them with their HTTP statuses). Adapters
only: parse → authenticate → action (``tipline.cybertipline.actions``) → XML answer. Every
answer, errors included, carries a fresh ``Request-ID`` (a random id, logged with nothing else,
that a partner can quote to the hotline). Nothing here logs the client's address or a body.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from lxml import etree

from tipline.cybertipline import actions
from tipline.espformat import documents
from tipline.partnerapi.reports import partner_report_link
from tipline.partners.auth import Forbidden, Unauthorized, credential_for_basic
from tipline.partners.models import ApiCredential, Scope
from tipline.web.body import BodyRefused, read_body

log = logging.getLogger(__name__)

REALM = 'Basic realm="Tipline CyberTipline-compatible API", charset="UTF-8"'
XML = "text/xml; charset=utf-8"
XML_TYPES = ("text/xml", "application/xml")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

Handler = Callable[[HttpRequest, ApiCredential], HttpResponse]
View = Callable[..., HttpResponse]


def _xml(root: etree._Element, *, status: int = 200) -> HttpResponse:
    return HttpResponse(documents.serialise(root), status=status, content_type=XML)


def report_response(
    code: int,
    description: str,
    *,
    status: int = 200,
    report_id: int | None = None,
    file_id: str | None = None,
    md5: str | None = None,
) -> HttpResponse:
    root = etree.Element("reportResponse")
    etree.SubElement(root, "responseCode").text = str(code)
    etree.SubElement(root, "responseDescription").text = description
    if report_id is not None:
        etree.SubElement(root, "reportId").text = str(report_id)
    if file_id is not None:
        etree.SubElement(root, "fileId").text = file_id
    if md5 is not None:
        etree.SubElement(root, "hash").text = md5
    return _xml(root, status=status)


def done_response(code: int, report_id: int, file_ids: list[str], *, status: int) -> HttpResponse:
    root = etree.Element("reportDoneResponse")
    etree.SubElement(root, "responseCode").text = str(code)
    etree.SubElement(root, "reportId").text = str(report_id)
    files = etree.SubElement(root, "files")
    for file_id in file_ids:
        etree.SubElement(files, "fileId").text = file_id
    return _xml(root, status=status)


def _error(exc: actions.ProtocolError) -> HttpResponse:
    return report_response(exc.code, str(exc), status=exc.status, report_id=exc.report_id)


def endpoint(method: str, *, done: bool = False) -> Callable[[Handler], View]:
    """Method check, HTTP Basic, error mapping and Request-ID around one protocol call.

    ``done``: the call answers with ``reportDoneResponse`` (``/finish``), errors included.
    """

    def wrap(handler: Handler) -> View:
        @csrf_exempt
        def view(request: HttpRequest) -> HttpResponse:
            request_id = uuid.uuid4().hex
            response = _answer(request, method, handler, done=done)
            response["Request-ID"] = request_id
            # The id, the call and the outcome only: no address, no credential, no content.
            log.info("ispws %s %s -> %d", request_id, handler.__name__, response.status_code)
            response["Cache-Control"] = "no-store"
            return response

        view.__name__ = handler.__name__
        view.__doc__ = handler.__doc__
        return view

    return wrap


def _answer(request: HttpRequest, method: str, handler: Handler, *, done: bool) -> HttpResponse:
    if request.method != method:
        response = report_response(3000, f"Use {method}.", status=405)
        response["Allow"] = method
        return response
    try:
        credential = credential_for_basic(request, scope=Scope.CYBERTIPLINE)
    except Unauthorized:
        response = report_response(1000, "User authentication required.", status=401)
        response["WWW-Authenticate"] = REALM
        return response
    except Forbidden:
        return report_response(1100, "This credential may not use this service.", status=403)
    try:
        return handler(request, credential)
    except actions.ProtocolError as exc:
        if done:
            status = 400 if isinstance(exc, (actions.Invalid, actions.Malformed)) else exc.status
            return done_response(exc.code, exc.report_id or 0, [], status=status)
        return _error(exc)
    except (RequestDataTooBig, TooManyFieldsSent):
        return report_response(3000, "The request is too large.", status=413)
    except MultiPartParserError:
        return report_response(3000, "The multipart body could not be read.", status=400)


def _xml_body(request: HttpRequest) -> bytes:
    if (request.content_type or "") not in XML_TYPES:
        raise actions.BadRequest("Send the document as text/xml; charset=utf-8.")
    charset = (request.content_params or {}).get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise actions.BadRequest("Send the document in UTF-8.")
    return request.body


def _form_id(request: HttpRequest) -> int:
    if (request.content_type or "") not in FORM_TYPES:
        raise actions.BadRequest(
            "Send the field id as application/x-www-form-urlencoded or multipart/form-data."
        )
    return actions.parse_report_id(request.POST.get("id"))


@endpoint("GET")
def status(request: HttpRequest, credential: ApiCredential) -> HttpResponse:
    """``GET /ispws/status``: the service is up and the credential works."""
    return report_response(0, "Server is up and your credentials are valid.")


@endpoint("GET")
def xsd(request: HttpRequest, credential: ApiCredential) -> HttpResponse:
    """``GET /ispws/xsd``: the schema reports are validated against."""
    return HttpResponse(documents.schema_bytes(), content_type=XML)


@endpoint("POST")
def submit(request: HttpRequest, credential: ApiCredential) -> HttpResponse:
    """``POST /ispws/submit``: open a report with a ``<report>`` document."""
    submission = actions.report_open(credential=credential, body=_xml_body(request))
    return report_response(0, "Success", report_id=submission.pk)


@endpoint("POST")
def upload(request: HttpRequest, credential: ApiCredential) -> HttpResponse:
    """``POST /ispws/upload``: fields ``id`` and ``file`` (multipart)."""
    if (request.content_type or "") != "multipart/form-data":
        raise actions.BadRequest("Send id and file as multipart/form-data.")
    try:
        body = read_body(request)
    except BodyRefused as refused:
        error = actions.BadRequest(refused.message)
        error.status = refused.status  # 413 for a body over the limit, as the front answers
        raise error from None
    report_id = actions.parse_report_id(body.data.get("id"))
    if body.too_large:
        raise actions.FileRefused(
            f"The file is larger than {settings.TIPLINE_MAX_FILE_BYTES} bytes.", report_id=report_id
        )
    files = body.files.getlist("file")
    if len(files) != 1 or body.refused:
        raise actions.BadRequest("Send exactly one file in the field file.", report_id=report_id)
    uploaded = actions.file_upload(
        credential=credential,
        report_id=report_id,
        name=files[0].name or "",
        data=files[0].read(),
    )
    return report_response(
        0, "Success", report_id=report_id, file_id=uploaded.file_id, md5=uploaded.md5
    )


@endpoint("POST")
def fileinfo(request: HttpRequest, credential: ApiCredential) -> HttpResponse:
    """``POST /ispws/fileinfo``: one ``<fileDetails>`` document for an uploaded file."""
    submission = actions.file_info(credential=credential, body=_xml_body(request))
    return report_response(0, "Success", report_id=submission.pk)


@endpoint("POST", done=True)
def finish(request: HttpRequest, credential: ApiCredential) -> HttpResponse:
    """``POST /ispws/finish``: field ``id``; the report is filed with Tipline."""
    with transaction.atomic():
        submission, file_ids = actions.report_finish(
            credential=credential, report_id=_form_id(request)
        )
        # Its status changes reach the partner's webhook, as for a partner API report.
        partner_report_link(
            credential=credential,
            reference=f"ispws:{submission.pk}",
            report_id=submission.report_id,  # type: ignore[arg-type]
        )
    return done_response(0, submission.pk, file_ids, status=200)


@endpoint("POST")
def retract(request: HttpRequest, credential: ApiCredential) -> HttpResponse:
    """``POST /ispws/retract``: field ``id``; an open report is withdrawn and erased."""
    submission = actions.report_retract(credential=credential, report_id=_form_id(request))
    return report_response(0, "Success", report_id=submission.pk)


@csrf_exempt
def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    """A path the protocol does not have: 404 in its form, before any credential is looked at."""
    response = report_response(3000, "No such call.", status=404)
    response["Request-ID"] = uuid.uuid4().hex
    response["Cache-Control"] = "no-store"
    return response
