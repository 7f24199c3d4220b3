"""Console views for notice and takedown: fill in an unknown host, confirm a hand-drafted notice,
mark a notice acknowledged; and what the case view's Notices section shows.

Adapters like ``console/decisions.py``: the report arrives through ``with_report`` (the access
function); a notice id is looked up only among that report's notices, so a notice of a report
this person cannot open is the same "not found". Every change is one action in
``tipline.takedown.actions``; a refusal is the calm "nothing was changed" page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from tipline.cases.models import Report
from tipline.cases.policies import NotAllowed, ReportPolicy
from tipline.console.shared import not_found, refused, staff_of, with_report
from tipline.guidance import jurisdictions
from tipline.staff.models import StaffUser
from tipline.takedown import actions, selectors
from tipline.takedown.models import Notice, NoticeState

LANGUAGE_CHOICES = [("en", "English"), ("fr", "Français"), ("hi", "हिन्दी")]


class HostForm(forms.Form):
    host = forms.CharField(max_length=253, widget=forms.HiddenInput)
    provider = forms.CharField(label=_("Provider"), max_length=200)
    abuse_email = forms.EmailField(label=_("Abuse e-mail address"), max_length=254)
    language = forms.ChoiceField(label=_("Language of the notice"), choices=LANGUAGE_CHOICES)
    country = forms.CharField(
        label=_("Hosting country (two letters)"), max_length=2, min_length=2, required=False
    )

    def clean_country(self) -> str:
        value: str = self.cleaned_data.get("country", "").strip().upper()
        if value and not (value.isascii() and value.isalpha()):
            raise forms.ValidationError(_("Two letters, as in GB or IN."))
        return value


def _back(report: Report) -> HttpResponse:
    return HttpResponseRedirect(reverse("console:case", args=[report.id]) + "#notices")


def _attempt(request: HttpRequest, report: Report, change: Callable[[], object]) -> HttpResponse:
    try:
        change()
    except NotAllowed as exc:
        return refused(request, report, str(exc))
    return _back(report)


@require_POST
@with_report
def host_set(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
    form = HostForm(request.POST)
    if not form.is_valid():
        return refused(
            request,
            report,
            _("Check the provider's details: %(errors)s")
            % {"errors": "; ".join(str(e) for errs in form.errors.values() for e in errs)},
        )
    data = form.cleaned_data
    return _attempt(
        request,
        report,
        lambda: actions.host_set(
            actor=user,
            report=report,
            host=data["host"],
            provider=data["provider"],
            abuse_email=data["abuse_email"],
            language=data["language"],
            country=data["country"],
        ),
    )


def _notice_view(
    change: Callable[..., object],
) -> Callable[[HttpRequest, uuid.UUID, uuid.UUID], HttpResponse]:
    @require_POST
    def view(request: HttpRequest, report_id: uuid.UUID, notice_id: uuid.UUID) -> HttpResponse:
        def inner(request: HttpRequest, user: StaffUser, report: Report) -> HttpResponse:
            notice = Notice.objects.filter(pk=notice_id, report=report).first()
            if notice is None:
                return not_found(request)
            return _attempt(request, report, lambda: change(actor=user, notice=notice))

        return with_report(inner)(request, report_id)

    return view


notice_confirm = _notice_view(actions.notice_confirm)
notice_acknowledge = _notice_view(actions.notice_acknowledge)


def _by_host(rows: list[selectors.UrlRow]) -> dict[str, list[selectors.UrlRow]]:
    grouped: dict[str, list[selectors.UrlRow]] = {}
    for row in rows:
        grouped.setdefault(row.tracked.host, []).append(row)
    return grouped


def notices_context(request: HttpRequest, report: Report) -> dict[str, Any]:
    """The case view's Notices section (``console/_notices.html``)."""
    user = staff_of(request)
    takedown = selectors.takedown_for(report)
    escalate = []
    for notice in takedown.escalations:
        country = jurisdictions.get(notice.hosting_country) if notice.hosting_country else None
        agency = (
            country.agency("hotline") or country.agency("child_exploitation") if country else None
        )
        escalate.append({"notice": notice, "agency": agency})
    others = takedown.other_report_ids()
    return {
        "takedown": takedown,
        # Re-appearance lines link the other report only for a viewer who may open it.
        "takedown_visible": set(
            ReportPolicy.visible(user).filter(pk__in=others).values_list("pk", flat=True)
        )
        if others
        else set(),
        "takedown_escalate": escalate,
        "may_takedown": ReportPolicy.may_claim(user),
        "takedown_unknown": [
            {
                "host": host,
                "record": rows[0].host,
                "urls": [r.tracked.url for r in rows],
                "reappearances": [again for r in rows for again in r.reappearances],
                "form": HostForm(initial={"host": host, "language": "en"}, auto_id=f"host-{i}-%s"),
            }
            for i, (host, rows) in enumerate(_by_host(takedown.unknown).items())
        ],
        "notice_drafted": NoticeState.DRAFTED,
        "notice_sent": NoticeState.SENT,
    }
