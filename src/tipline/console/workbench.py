"""The analyst's daily loop: "next case" (issue 15), reached by a link and by the ``n`` shortcut.

A GET that only reads and redirects, so it is an ordinary link that works without JavaScript; it
claims nothing (claiming is a separate, audited POST on the case page). People who do not work
on reports go to their home page.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from tipline.cases import queue
from tipline.cases.policies import ReportPolicy
from tipline.console.shared import no_store, staff_of


@require_GET
def next_case(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    if not ReportPolicy.may_claim(user):
        return HttpResponseRedirect(reverse("console:home"))
    report_id = queue.next_unclaimed(user)
    if report_id is None:
        return no_store(render(request, "console/next_none.html"))
    return HttpResponseRedirect(reverse("console:case", args=[report_id]))
