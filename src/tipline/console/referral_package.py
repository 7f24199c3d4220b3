"""A liaison downloads the referral package of a report referred to their agency.

An adapter like the rest of the console: the report is resolved by the access function (a
liaison sees only reports referred to their agency; anything else is the same 404), the action
decides whether this person may have the package and audits the download, and a refusal (not
their referral, no agency key, evidence shredded) is the calm "nothing was changed" page with
the reason. ``with_report`` is not used only because this view streams a file
(``FileResponse`` is not an ``HttpResponse``).
"""

from __future__ import annotations

import uuid

from django.http import FileResponse, HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_POST

from tipline.cases.access import ReportNotFound, report_for_staff
from tipline.console.shared import not_found, refused, staff_of
from tipline.outputs.actions import referral_package_download
from tipline.outputs.package import PackageRefused


@require_POST
def referral_package(request: HttpRequest, report_id: uuid.UUID) -> HttpResponseBase:
    user = staff_of(request)
    try:
        report = report_for_staff(user, report_id)
    except ReportNotFound:
        return not_found(request)
    try:
        delivery = referral_package_download(actor=user, report=report)
    except PackageRefused as refusal:
        return refused(request, report, str(refusal))
    # FileResponse closes (and so deletes) the temporary file once it is sent.
    response = FileResponse(
        delivery.file,
        as_attachment=True,
        filename=delivery.filename,
        content_type="application/zip",
    )
    response["Cache-Control"] = "no-store"  # as shared.no_store does for rendered pages
    return response
