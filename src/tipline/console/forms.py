from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tipline import countries
from tipline.cases import categories
from tipline.cases.policies import CASEWORK_ROLES
from tipline.cases.queue import ANY_STATE, VIEWS, Cursor, QueueFilters
from tipline.cases.states import ReportState
from tipline.staff import time_zones
from tipline.staff.models import StaffUser


class SignInForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
        error_messages={"required": _("Enter your username.")},
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password.")},
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        help_text=_("From the authenticator app on your phone. It changes every 30 seconds."),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "spellcheck": "false",
            }
        ),
        error_messages={"required": _("Enter the 6-digit code.")},
    )

    def clean_code(self) -> str:
        code = "".join(str(self.cleaned_data["code"]).split())
        RegexValidator(r"^[0-9]{6}$", _("Enter the 6 digits, for example 123456."))(code)
        return code


# --- queue and case view ----------------------------------------------------------------------

ASSIGNEE_CHOICES = [
    ("anyone", _("Anyone")),
    ("me", _("Me")),
    ("unassigned", _("Nobody yet")),
]
# Dates outside these years are typing mistakes; refusing them also keeps date arithmetic in range.
_FIRST_YEAR, _LAST_YEAR = 2000, 2100
_BAD_PAGE_LINK = _("This page link is not valid. Start again from the first page.")


def _any(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


# The country filter's value for reports whose reporter did not say (stored as "").
COUNTRY_NOT_SAID = "none"


def _country_choices() -> list[tuple[str, Any]]:
    # A callable, so the names follow the language of each request.
    return [
        ("", _("Any country")),
        (COUNTRY_NOT_SAID, _("Not said")),
        *countries.by_name(),
    ]


ISO_DATE = "%Y-%m-%d"


class IsoDateInput(forms.DateInput):
    """A text field for YYYY-MM-DD: a browser's date picker shows the date in its own locale's
    order (03/31/2026 or 31/03/2026), which the rest of the console never uses."""

    def __init__(self) -> None:
        super().__init__(
            format=ISO_DATE,
            attrs={
                "placeholder": "YYYY-MM-DD",
                "inputmode": "numeric",
                "pattern": "[0-9]{4}-[0-9]{2}-[0-9]{2}",
                "autocomplete": "off",
                "size": "10",
            },
        )


class QueueFilterForm(forms.Form):
    """The queue's GET parameters. Anything else in the query string is ignored."""

    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=_any(_("Any category")) + [(c.code, c.label) for c in categories.CATEGORIES],
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("Open (new, in review, awaiting review)")),
            (ANY_STATE, _("Any state")),
            *ReportState.choices,
        ],
    )
    assignee = forms.ChoiceField(label=_("Assigned to"), required=False, choices=ASSIGNEE_CHOICES)
    country = forms.ChoiceField(
        label=_("Country"),
        required=False,
        choices=_country_choices,
        widget=countries.QuickSelect,
        # Django's default message repeats the value, which could be a megabyte of anything.
        error_messages={"invalid_choice": _("Choose a country from the list.")},
    )
    created_from = forms.DateField(
        label=_("Received from (YYYY-MM-DD)"),
        required=False,
        input_formats=[ISO_DATE],
        widget=IsoDateInput,
        error_messages={"invalid": _("Enter a date like 2026-03-31.")},
    )
    created_to = forms.DateField(
        label=_("Received until (YYYY-MM-DD)"),
        required=False,
        input_formats=[ISO_DATE],
        widget=IsoDateInput,
        error_messages={"invalid": _("Enter a date like 2026-03-31.")},
    )
    view = forms.ChoiceField(
        required=False, choices=[(v, v) for v in VIEWS], widget=forms.HiddenInput
    )
    after = forms.CharField(
        label=_("Page link"),
        required=False,
        max_length=100,
        widget=forms.HiddenInput,
        error_messages={"max_length": _BAD_PAGE_LINK},
    )

    def _check_year(self, name: str) -> date | None:
        value: date | None = self.cleaned_data.get(name)
        if value is not None and not _FIRST_YEAR <= value.year <= _LAST_YEAR:
            raise ValidationError(
                _("Enter a date between %(first)d and %(last)d."),
                params={"first": _FIRST_YEAR, "last": _LAST_YEAR},
            )
        return value

    def clean_created_from(self) -> date | None:
        return self._check_year("created_from")

    def clean_created_to(self) -> date | None:
        return self._check_year("created_to")

    def clean_after(self) -> Cursor | None:
        text = self.cleaned_data.get("after") or ""
        if not text:
            return None
        try:
            return Cursor.decode(text)
        except ValueError:
            raise ValidationError(_BAD_PAGE_LINK) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> QueueFilters:
        """The validated filters; call only when ``is_valid()``."""
        data = self.cleaned_data
        start, end = data.get("created_from"), data.get("created_to")
        country = data.get("country") or ""
        return QueueFilters(
            view=data.get("view") or "",
            category=data.get("category") or "",
            state=data.get("state") or "",
            assignee=data.get("assignee") or "anyone",
            country="" if country == COUNTRY_NOT_SAID else (country or None),
            created_from=_start_of(start) if start else None,
            created_before=_start_of(end + timedelta(days=1)) if end else None,
        )


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _time_zone_choices() -> list[tuple[str, Any]]:
    hotline = str(settings.TIME_ZONE)
    default = _("The hotline's (%(zone)s)") % {"zone": hotline}
    return [("", default), *((name, name) for name in time_zones.names())]


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=StaffUser.objects.none(),
        required=False,
        empty_label=_("Nobody"),
        to_field_name="username",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared just above
        field.queryset = StaffUser.objects.filter(
            is_active=True, role__in=sorted(CASEWORK_ROLES)
        ).order_by("username")


class HotlineMessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message to the reporter"),
        help_text=_(
            "They read it on their follow-up page with their receipt. It is signed “Hotline”, "
            "never with your name."
        ),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write the message first.")},
    )


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        help_text=_("Every date and time in the console is shown in it."),
        required=False,
        choices=_time_zone_choices,
        widget=forms.Select(attrs={"aria-describedby": "tz-hint"}),
        error_messages={"invalid_choice": _("Choose a time zone from the list.")},
    )
