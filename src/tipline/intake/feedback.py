"""The reporter's optional, anonymous feedback (tipline.metrics.satisfaction).

Offered at the end of the receipt page and on the follow-up page once a report is closed. The
form carries the category and the stage, nothing else: no receipt, no report id, no cookie. Every
question can be skipped; sending it empty keeps nothing. Works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tipline.cases import categories
from tipline.metrics import satisfaction
from tipline.metrics.models import SatisfactionStage
from tipline.web.body import BodyRefused, read_body, refused_response

SCALE = [("", _("Skip"))] + [(str(n), str(n)) for n in satisfaction.SCORES]


def _score(label: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=SCALE,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )


class SatisfactionForm(forms.Form):
    category = forms.ChoiceField(
        choices=[(c.code, c.code) for c in categories.CATEGORIES], widget=forms.HiddenInput
    )
    stage = forms.ChoiceField(choices=SatisfactionStage.choices, widget=forms.HiddenInput)
    easy = _score(_("Was it easy to report? (1 = not at all, 5 = very easy)"))
    safe = _score(_("Did you feel safe doing it? (1 = not at all, 5 = completely)"))
    next_steps = _score(_("Do you know what happens next? (1 = not at all, 5 = clearly)"))
    comment = forms.CharField(
        label=_("Anything else you want us to know? (optional, do not include names)"),
        required=False,
        max_length=satisfaction.MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def form_for(category: str, stage: str) -> SatisfactionForm:
    return SatisfactionForm(initial={"category": category, "stage": stage})


@csrf_exempt  # cookie-less: see CrossSiteWriteGuardMiddleware
@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "intake/satisfaction_thanks.html")
    try:
        body = read_body(request)
    except BodyRefused as refused:
        return refused_response(request, refused)
    form = SatisfactionForm(body.data)
    if not form.is_valid():
        return render(request, "intake/satisfaction_form.html", {"form": form}, status=400)
    data = form.cleaned_data
    satisfaction.answer_record(
        category=data["category"],
        stage=SatisfactionStage(data["stage"]),
        easy=data["easy"],
        safe=data["safe"],
        next_steps=data["next_steps"],
        comment=data["comment"],
    )
    response = HttpResponseRedirect(reverse("intake:feedback"))
    response.status_code = 303
    return response
