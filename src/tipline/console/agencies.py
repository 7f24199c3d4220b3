"""The agency list for administrators: who referral packages go to, encrypted to which age key,
and how they are delivered. Adapters over ``outputs.agencies``, whose actions check the values
again and write each change to the audit log. Anyone else gets the console's "not found" page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from tipline import countries
from tipline.cases.models import Agency, AgencyDelivery
from tipline.console.shared import no_store, not_found, staff_of
from tipline.outputs import agencies
from tipline.outputs.policies import AgencyPolicy


def _country_choices() -> list[tuple[str, Any]]:
    return [("", _("Not set")), *countries.by_name()]


# The form's fields, named as ``agencies.agency_settings`` takes them; the model calls the key
# ``age_recipient``. One list for checking, for the edit form's initial values and for adding.
SETTINGS_FIELDS = (
    "name",
    "country",
    "contact",
    "delivery",
    "email",
    "key",
    "api_url",
    "api_credential",
    "active",
)
ATTRIBUTE = {"key": "age_recipient"}


class AgencyForm(forms.Form):
    """Shape only (lengths, choices); ``agencies.agency_settings`` checks the values."""

    name = forms.CharField(label=_("Name"), max_length=200)
    country = forms.ChoiceField(label=_("Country"), choices=_country_choices, required=False)
    contact = forms.CharField(
        label=_("Contact"),
        help_text=_("A person or desk to call about a referral."),
        max_length=500,
        required=False,
    )
    email = forms.CharField(label=_("Contact e-mail"), max_length=254, required=False)
    key = forms.CharField(
        label=_("age public key"),
        help_text=_("The agency's age public key (age1…). Packages are encrypted to it."),
        max_length=200,
        required=False,
    )
    delivery = forms.ChoiceField(label=_("Delivery"), choices=AgencyDelivery.choices)
    api_url = forms.CharField(
        label=_("API address"),
        help_text=_("For delivery by a CyberTipline-compatible API: the service's base address."),
        max_length=500,
        required=False,
    )
    api_credential = forms.CharField(
        label=_("Credential reference"),
        help_text=_(
            "Where the API credential is kept (for example the name of an environment "
            "variable), never the password itself."
        ),
        max_length=100,
        required=False,
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def checked(self) -> agencies.AgencySettings | None:
        """The settings, or None with the reason added to the form."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        try:
            return agencies.agency_settings(**{field: data[field] for field in SETTINGS_FIELDS})
        except agencies.AgencyError as exc:
            self.add_error(None, str(exc))
            return None


def _initial(agency: Agency) -> dict[str, Any]:
    return {field: getattr(agency, ATTRIBUTE.get(field, field)) for field in SETTINGS_FIELDS}


def _list_page(request: HttpRequest, form: AgencyForm, *, status: int = 200) -> HttpResponse:
    context = {
        "agencies": Agency.objects.order_by("name"),
        "form": form,
        "saved": request.GET.get("saved") == "1",
    }
    return no_store(render(request, "console/agencies.html", context, status=status))


@require_GET
def agency_list(request: HttpRequest) -> HttpResponse:
    if not AgencyPolicy.may_manage(staff_of(request)):
        return not_found(request)
    return _list_page(request, AgencyForm())


@require_POST
def agency_add(request: HttpRequest) -> HttpResponse:
    user = staff_of(request)
    if not AgencyPolicy.may_manage(user):
        return not_found(request)
    form = AgencyForm(request.POST)
    checked = form.checked()
    if checked is not None:
        try:
            agencies.agency_create(actor=user, settings=checked)
        except agencies.AgencyError as exc:
            form.add_error(None, str(exc))
        else:
            return HttpResponseRedirect(reverse("console:agencies") + "?saved=1")
    return _list_page(request, form, status=400)


def _edit_page(
    request: HttpRequest, agency: Agency, form: AgencyForm, *, status: int = 200
) -> HttpResponse:
    context = {"agency": agency, "form": form}
    return no_store(render(request, "console/agency.html", context, status=status))


@require_GET
def agency_page(request: HttpRequest, agency_id: int) -> HttpResponse:
    try:
        agency = agencies.agency_for(staff_of(request), agency_id)
    except agencies.AgencyNotFound:
        return not_found(request)
    return _edit_page(request, agency, AgencyForm(initial=_initial(agency)))


@require_POST
def agency_edit(request: HttpRequest, agency_id: int) -> HttpResponse:
    user = staff_of(request)
    try:
        agency = agencies.agency_for(user, agency_id)
    except agencies.AgencyNotFound:
        return not_found(request)
    form = AgencyForm(request.POST)
    checked = form.checked()
    if checked is not None:
        try:
            agencies.agency_edit(actor=user, agency_id=agency.pk, settings=checked)
        except agencies.AgencyError as exc:
            form.add_error(None, str(exc))
        else:
            return HttpResponseRedirect(reverse("console:agencies") + "?saved=1")
    return _edit_page(request, agency, form, status=400)
