"""The webhook delivery log (administrators): each partner's endpoint and what was sent to it,
when, how many attempts, and the last answer. Payloads hold ids and statuses only."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tipline.console.shared import no_store, not_found, staff_of
from tipline.partnerapi import webhooks
from tipline.partnerapi.models import WebhookEndpoint
from tipline.staff.policies import PartnerPolicy


@require_GET
def webhook_log(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    if not PartnerPolicy.may_read(user):
        return not_found(request)
    context = {
        "endpoints": WebhookEndpoint.objects.select_related("credential").order_by("credential_id"),
        "deliveries": webhooks.deliveries(limit=200),
    }
    return no_store(render(request, "console/webhooks.html", context))
