"""Anonymous API endpoints: adapters over the same actions as the web form."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import get_language_from_request
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from tipline.api.openapi import schema
from tipline.api.parsing import BadBody, json_object, multipart_body, to_form_data
from tipline.cases import actions, categories, selectors
from tipline.cases.access import ReportNotFound, TooManyAttempts, report_by_receipt
from tipline.cases.models import Report
from tipline.cases.sealing import KeyDestroyed
from tipline.cases.states import Channel, MessageAuthor
from tipline.cases.submissions import SUBMISSION_TOKEN
from tipline.evidence.validate import validate_uploads
from tipline.web.forms import CleanCharField
from tipline.web.report_forms import MAX_BODY, ReportForm

NOT_FOUND = {"error": "not_found", "message": _lazy("No report matches this receipt.")}
THROTTLED = {
    "error": "too_many_attempts",
    "message": _lazy("Too many attempts on this site in the last minute; wait a minute."),
}
ERASED = {
    "error": "erased",
    "message": _lazy(
        "This report has been closed and its details erased under our retention policy; "
        "please make a new report."
    ),
}
REPORT_FIELDS = set(ReportForm.base_fields) - {"attachments", "submission"}


def _idempotency_key(request: HttpRequest) -> str | None:
    """The optional Idempotency-Key header: a retry with the same key gets the first answer."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not SUBMISSION_TOKEN.match(key):
        raise BadBody({"Idempotency-Key": [_("Use 16 to 128 letters, digits, '-' or '_'.")]})
    return key


def _errors(form_errors: Any) -> dict[str, list[str]]:
    return {name: [str(e) for e in errs] for name, errs in form_errors.items()}


def _bad(exc: BadBody) -> JsonResponse:
    return JsonResponse({"errors": exc.errors}, status=exc.status)


def _language(request: HttpRequest, requested: Any) -> str:
    """The report's language: as given, else the client's Accept-Language; anything else is
    refused (a list or an object used to be taken silently)."""
    if requested is None:
        return get_language_from_request(request, check_path=False)
    codes = [code for code, _name in settings.LANGUAGES]
    if isinstance(requested, str) and requested in codes:
        return requested
    message = _("Choose one of: %(allowed)s.") % {"allowed": ", ".join(codes)}
    raise BadBody({"language": [message]})


@csrf_exempt
@require_POST
def reports(request: HttpRequest) -> JsonResponse:
    files: list[Any] = []
    try:
        idempotency_key = _idempotency_key(request)
        if (request.content_type or "") == "multipart/form-data":
            body = multipart_body(request, file_field="attachments")
            data = body.data.copy()
            files = body.files.getlist("attachments")
            language = _language(request, data.pop("language", [None])[-1])
        else:
            fields = json_object(request)
            language = _language(request, fields.pop("language", None))
            data = to_form_data(
                fields, list_fields=ReportForm.LIST_FIELDS, known=REPORT_FIELDS | {"category"}
            )
    except BadBody as exc:
        return _bad(exc)
    code = data.get("category")
    if code not in categories.CODES:
        allowed = ", ".join(categories.CODES)
        message = _("Choose one of: %(allowed)s.") % {"allowed": allowed}
        return JsonResponse({"errors": {"category": [message]}}, status=400)
    category = categories.get(code)
    form = ReportForm(data, category=category)
    if not form.is_valid():
        return JsonResponse({"errors": _errors(form.errors)}, status=400)
    if files and not category.allows_files:
        return JsonResponse(
            {"errors": {"attachments": [_("This category does not accept files.")]}}, status=400
        )
    uploads, file_errors = validate_uploads(files)
    if file_errors:
        return JsonResponse({"errors": {"attachments": file_errors}}, status=400)
    created = actions.report_create(
        category=category.code,
        channel=Channel.API,
        language=language,
        details=form.details(),
        contact=form.contact(),
        uploads=uploads,
        submission_token=idempotency_key,
        country=form.cleaned_data.get("country") or "",
    )
    response = JsonResponse({"receipt": created.receipt}, status=201)
    if created.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _report_from(body: dict[str, Any]) -> Report:
    receipt = body.get("receipt")
    # A wrong type is answered exactly like a wrong receipt.
    return report_by_receipt(receipt if isinstance(receipt, str) else "")


def _opened(request: HttpRequest) -> tuple[dict[str, Any], Report] | JsonResponse:
    """The JSON body and the report its receipt opens, or the answer to give instead."""
    try:
        body = json_object(request)
        return body, _report_from(body)
    except BadBody as exc:
        return _bad(exc)
    except TooManyAttempts:
        return JsonResponse(THROTTLED, status=429)
    except ReportNotFound:
        return JsonResponse(NOT_FOUND, status=404)


@csrf_exempt
@require_POST
def followup_status(request: HttpRequest) -> JsonResponse:
    opened = _opened(request)
    if isinstance(opened, JsonResponse):
        return opened
    _body, report = opened
    view = selectors.reporter_view(report)
    return JsonResponse(
        {
            "status": view.status.value,
            "category": view.category,
            "created_at": view.created_at.isoformat(),
            "messages": [
                {
                    "author": m.author.value,
                    "created_at": m.created_at.isoformat(),
                    "body": m.body,
                    "files": [f.name for f in m.files],
                }
                for m in view.messages
            ],
        }
    )


_BODY_FIELD = CleanCharField(max_length=MAX_BODY)


@csrf_exempt
@require_POST
def followup_messages(request: HttpRequest) -> JsonResponse:
    try:
        idempotency_key = _idempotency_key(request)
    except BadBody as exc:
        return _bad(exc)
    opened = _opened(request)
    if isinstance(opened, JsonResponse):
        return opened
    body, report = opened
    text = body.get("body")
    if not isinstance(text, str):
        return JsonResponse({"errors": {"body": [_("Expected a string.")]}}, status=400)
    try:
        cleaned = _BODY_FIELD.clean(text)
    except ValidationError as exc:
        return JsonResponse({"errors": {"body": [str(m) for m in exc.messages]}}, status=400)
    try:
        actions.message_add(
            report=report,
            author=MessageAuthor.REPORTER,
            body=cleaned,
            submission_token=idempotency_key,
        )
    except KeyDestroyed:
        return JsonResponse(ERASED, status=410)
    return JsonResponse({"status": "sent"}, status=201)


@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(schema(), json_dumps_params={"indent": 2})
