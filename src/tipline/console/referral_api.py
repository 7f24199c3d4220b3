"""A caseworker submits a confirmed referral to an agency reached by a CyberTipline-compatible
API (the same action as `tipline referral submit-cybertipline`, with the agency's settings).

Submitting is audited (``referral.cybertipline``, or ``referral.refused`` with the reason); the
case view shows the service's report id, or the last refusal and the button again. A submitted
referral, or one being submitted, is refused: never twice.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from tipline.cases.models import Report
from tipline.console.shared import send_to_agency, with_report
from tipline.outputs.cybertipline import SubmitRefused, referral_submit_for
from tipline.staff.models import StaffUser


@require_POST
@with_report
def referral_api(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    return send_to_agency(
        request,
        report,
        lambda agency: referral_submit_for(actor=user, report=report, agency=agency),
        SubmitRefused,
        "referral-api",
    )
