"""A caseworker sends a confirmed referral's package to an agency that takes e-mail.

The action queues it (audited); the task worker sends it and retries while SMTP is down. The
case view shows each delivery's state: queued (with its attempts and next try), sent (with the
Message-ID) or refused (with the reason).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from tipline.cases.models import Report
from tipline.console.shared import send_to_agency, with_report
from tipline.outputs.email_delivery import referral_email_send
from tipline.outputs.package import PackageRefused
from tipline.staff.models import StaffUser


@require_POST
@with_report
def referral_email(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    return send_to_agency(
        request,
        report,
        lambda agency: referral_email_send(actor=user, report=report, agency=agency),
        PackageRefused,
        "referral-email",
    )
