"""What every console view needs: the signed-in staff member, the report behind an id, and the
pages for "not found" and "refused". Views import these from here, never from each other.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from tipline.cases.access import ReportNotFound, report_for_staff
from tipline.cases.models import Report
from tipline.staff.models import StaffUser


def staff_of(request: HttpRequest) -> StaffUser:
    # ConsoleAccessMiddleware lets only current, verified staff reach these views.
    user = request.user
    assert isinstance(user, StaffUser)  # noqa: S101 - guaranteed by the middleware
    return user


def not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "console/not_found.html", status=404)


def refused(request: HttpRequest, report: Report, reason: str) -> HttpResponse:
    return render(request, "console/refused.html", {"report": report, "reason": reason}, status=403)


ReportView = Callable[[HttpRequest, StaffUser, Report], HttpResponse]


def with_report(view: ReportView) -> Callable[[HttpRequest, uuid.UUID], HttpResponse]:
    """Resolve ``report_id`` through the access function; any refusal is the same 404 page."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, report_id: uuid.UUID) -> HttpResponse:
        user = staff_of(request)
        try:
            report = report_for_staff(user, report_id)
        except ReportNotFound:
            return not_found(request)
        return view(request, user, report)

    return wrapped


MAX_AGENCY = 200  # longer than any configured agency key; refused before any look-up


def send_to_agency(
    request: HttpRequest,
    report: Report,
    send: Callable[[str], object],
    refusal: type[Exception],
    anchor: str,
) -> HttpResponse:
    """The shape shared by every "send this referral to the agency chosen in the form" button:
    the agency from the POST, the action's refusal shown as the refused page, and back to the
    case at the delivery's section (``anchor``)."""
    agency = request.POST.get("agency", "")
    if len(agency) > MAX_AGENCY:
        return refused(request, report, "no such agency")
    try:
        send(agency)
    except refusal as reason:
        return refused(request, report, str(reason))
    return HttpResponseRedirect(reverse("console:case", args=[report.id]) + f"#{anchor}")


def no_store(response: HttpResponse) -> HttpResponse:
    # Decrypted content must not linger in a browser or proxy cache.
    response["Cache-Control"] = "no-store"
    return response
