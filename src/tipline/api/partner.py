"""Partner report routes: a batch of reports, one report's status, files for a report.

Adapters: bearer token with scope ``reports`` -> parse and validate each item with the same
report form as the web and anonymous API -> ``tipline.partnerapi.reports`` -> answer. A batch is
answered item by item, in the order sent: one bad item is named with its errors and the others
are filed. Only the partner's own reports can be read or given files; any other id (missing,
another partner's, malformed) gets the same 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from tipline.api.bearer import with_credential
from tipline.api.parsing import BadBody, json_object, multipart_body, to_form_data
from tipline.api.views import REPORT_FIELDS, _idempotency_key
from tipline.cases import categories
from tipline.cases.sealing import KeyDestroyed
from tipline.evidence.validate import validate_uploads
from tipline.partnerapi import reports
from tipline.partners.models import ApiCredential, Scope
from tipline.web.report_forms import ReportForm

REFERENCE = reports.REFERENCE
NOT_FOUND = {"error": "not_found", "message": "No report of yours has this id."}
ITEM_FIELDS = REPORT_FIELDS | {"category", "reference", "language"}


def _item(raw: Any) -> tuple[reports.PartnerItem | None, dict[str, list[str]]]:
    if not isinstance(raw, dict):
        return None, {"__all__": [_("Each report is a JSON object.")]}
    errors: dict[str, list[str]] = {}
    reference = raw.get("reference")
    if not isinstance(reference, str) or not REFERENCE.fullmatch(reference):
        errors["reference"] = [
            _("Give your reference: 1 to 100 letters, digits, '.', '_', ':', '/' or '-'.")
        ]
    code = raw.get("category")
    if not isinstance(code, str) or code not in categories.CODES:
        allowed = ", ".join(categories.CODES)
        errors["category"] = [_("Choose one of: %(allowed)s.") % {"allowed": allowed}]
    language = raw.get("language", settings.LANGUAGE_CODE)
    codes = [c for c, _n in settings.LANGUAGES]
    if not isinstance(language, str) or language not in codes:
        errors["language"] = [_("Choose one of: %(allowed)s.") % {"allowed": ", ".join(codes)}]
    fields = {k: v for k, v in raw.items() if k not in ("reference", "category", "language")}
    try:
        data = to_form_data(
            fields, list_fields=ReportForm.LIST_FIELDS, known=ITEM_FIELDS - {"category"}
        )
    except BadBody as exc:
        errors.update(exc.errors)
        return None, errors
    if errors:
        return None, errors
    data["category"] = str(code)
    form = ReportForm(data, category=categories.get(str(code)))
    if not form.is_valid():
        return None, {name: [str(e) for e in errs] for name, errs in form.errors.items()}
    item = reports.PartnerItem(
        reference=str(reference),
        category=str(code),
        language=str(language),
        details=form.details(),
        contact=form.contact(),
        country=form.cleaned_data.get("country") or "",
    )
    return item, {}


def _items(body: dict[str, Any]) -> list[Any]:
    unknown = set(body) - {"reports"}
    if unknown:
        raise BadBody({name[:40]: [_("Unknown field.")] for name in sorted(unknown)[:10]})
    items = body.get("reports")
    if not isinstance(items, list) or not 1 <= len(items) <= reports.MAX_BATCH:
        message = _("Give a list of 1 to %(n)d reports.") % {"n": reports.MAX_BATCH}
        raise BadBody({"reports": [message]})
    return items


@csrf_exempt
@require_POST
@with_credential(Scope.REPORTS)
def submit(request: HttpRequest, credential: ApiCredential) -> HttpResponse:
    try:
        raw_items = _items(json_object(request))
    except BadBody as exc:
        return JsonResponse({"errors": exc.errors}, status=exc.status)
    parsed = [_item(raw) for raw in raw_items]
    counts: dict[str, int] = {}
    for item, _errors in parsed:
        if item is not None:
            counts[item.reference] = counts.get(item.reference, 0) + 1
    duplicate = [_("This reference appears more than once in the batch.")]
    valid = [item for item, _e in parsed if item is not None and counts[item.reference] == 1]
    filed = reports.partner_reports_file(credential=credential, items=valid)
    results: list[dict[str, Any]] = []
    for index, (item, errors) in enumerate(parsed):
        if item is not None and counts[item.reference] > 1:
            errors = {"reference": duplicate}
        if item is None or errors:
            results.append({"index": index, "status": "invalid", "errors": errors})
            continue
        outcome = filed[item.reference]
        if outcome.error:
            results.append(
                {"index": index, "status": "invalid", "errors": {"__all__": [outcome.error]}}
            )
            continue
        results.append(
            {
                "index": index,
                "reference": item.reference,
                "status": "created" if outcome.created else "existing",
                "id": str(outcome.report_id),
            }
        )
    return JsonResponse({"results": results})


def _status(link: Any) -> dict[str, Any]:
    status = reports.partner_status(link)
    return {
        "id": str(status.id),
        "reference": status.reference,
        "status": status.status,
        "outcome": status.outcome or None,
        "created_at": status.created_at.isoformat(),
        "updated_at": status.updated_at.isoformat(),
    }


@require_GET
@with_credential(Scope.REPORTS)
def report(request: HttpRequest, credential: ApiCredential, report_id: str) -> HttpResponse:
    try:
        link = reports.partner_report_for(credential=credential, report_id=report_id)
    except reports.PartnerReportNotFound:
        return JsonResponse(NOT_FOUND, status=404)
    return JsonResponse(_status(link))


@csrf_exempt
@require_POST
@with_credential(Scope.REPORTS)
def files(request: HttpRequest, credential: ApiCredential, report_id: str) -> HttpResponse:
    try:
        link = reports.partner_report_for(credential=credential, report_id=report_id)
    except reports.PartnerReportNotFound:
        return JsonResponse(NOT_FOUND, status=404)
    try:
        token = _idempotency_key(request)
        if (request.content_type or "") != "multipart/form-data":
            raise BadBody({"__all__": [_("Send the files as multipart/form-data.")]}, status=415)
        body = multipart_body(request, file_field="files")
    except BadBody as exc:
        return JsonResponse({"errors": exc.errors}, status=exc.status)
    unknown = sorted(set(body.data))[:10]
    uploads_in = body.files.getlist("files")
    if unknown:
        return JsonResponse(
            {"errors": {n[:40]: [_("Unknown field.")] for n in unknown}}, status=400
        )
    if not uploads_in:
        message = _("Send one or more files in parts named 'files'.")
        return JsonResponse({"errors": {"files": [message]}}, status=400)
    if not categories.get(link.report.category).allows_files:
        message = _("This category does not accept files.")
        return JsonResponse({"errors": {"files": [message]}}, status=400)
    uploads, errors = validate_uploads(uploads_in)
    if errors:
        return JsonResponse({"errors": {"files": errors}}, status=400)
    try:
        reports.partner_files_add(link=link, uploads=uploads, submission_token=token)
    except KeyDestroyed:
        return JsonResponse({"error": "erased", "message": "This report was erased."}, status=410)
    return JsonResponse({"id": str(link.report.id), "files": len(uploads)}, status=201)
