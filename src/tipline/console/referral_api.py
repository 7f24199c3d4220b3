"""A caseworker submits a confirmed referral to an agency reached by a CyberTipline-compatible
API (the same action as `tipline referral submit-cybertipline`, with the agency's settings).

Submitting is audited (``referral.cybertipline``, or ``referral.refused`` with the reason); the
case view shows the service's report id, or the last refusal and the button again. A submitted
referral, or one being submitted, is refused: never twice.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from tipline.cases.models import Report
from tipline.console.shared import refused, with_report
from tipline.outputs.cybertipline import SubmitRefused, referral_submit_for
from tipline.staff.models import StaffUser

MAX_AGENCY = 200


@require_POST
@with_report
def referral_api(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    agency = request.POST.get("agency", "")
    if len(agency) > MAX_AGENCY:
        return refused(request, report, "no such agency")
    try:
        referral_submit_for(actor=user, report=report, agency=agency)
    except SubmitRefused as refusal:
        return refused(request, report, str(refusal))
    return HttpResponseRedirect(reverse("console:case", args=[report.id]) + "#referral-api")
