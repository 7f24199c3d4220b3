"""The learned triage model's switches for administrators (issue 20): off, shadow or on, and the
starter model's on or off.

A thin adapter over ``cases.triage_model``, whose action refuses anyone but an administrator and
writes every switch to the audit log. The page shows what the model learned from in counts only
(reports per tier, when): never a word of the reports themselves.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tipline.cases import triage_model
from tipline.cases.models import ModelMode, TriageModel
from tipline.console.shared import no_store, not_found, staff_of


def _page(request: HttpRequest, *, status: int = 200, refused: bool = False) -> HttpResponse:
    model = TriageModel.objects.only("version", "trained_at", "trained_on", "classes").first()
    context = {
        "model": model,
        "classes": sorted((model.classes if model else {}).items()),
        "mode": triage_model.model_mode(),
        "starter_on": triage_model.starter_enabled(),
        "modes": ModelMode.values,
        "saved": request.GET.get("saved") == "1",
        "refused": refused,
    }
    return no_store(render(request, "console/triage_model.html", context, status=status))


@require_GET
def triage_model_page(request: HttpRequest) -> HttpResponse:
    if not triage_model.may_switch(staff_of(request)):
        return not_found(request)
    return _page(request)


@require_POST
def triage_model_mode(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    if not triage_model.may_switch(user):
        return not_found(request)
    mode = request.POST.get("mode", "")
    if mode not in ModelMode.values:
        return _page(request, status=400, refused=True)
    triage_model.model_set_mode(actor=user, mode=mode)
    return HttpResponseRedirect(reverse("console:triage_model") + "?saved=1")


@require_POST
def triage_model_starter(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    if not triage_model.may_switch(user):
        return not_found(request)
    switch = request.POST.get("starter", "")
    if switch not in ("on", "off"):
        return _page(request, status=400, refused=True)
    triage_model.starter_set(actor=user, on=switch == "on")
    return HttpResponseRedirect(reverse("console:triage_model") + "?saved=1")
