"""Console view: forward a report to a partner hotline (tipline.exchange delivers it)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tipline.cases.models import Report
from tipline.cases.policies import NotAllowed
from tipline.console.shared import refused, with_report
from tipline.exchange import actions, selectors
from tipline.staff.models import StaffUser


@require_POST
@with_report
def forward(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    hotline = selectors.hotline_choice(request.POST.get("hotline", "")[:64])
    if hotline is None:
        return refused(request, report, _("Choose one of the partner hotlines listed."))
    try:
        actions.forward_create(actor=user, report=report, hotline=hotline)
    except (NotAllowed, actions.ExchangeError) as exc:
        return refused(request, report, str(exc))
    return HttpResponseRedirect(reverse("console:case", args=[report.id]) + "#forwarding")
