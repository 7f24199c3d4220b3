"""Forms of the evidence locker. Every form inside an opened locker carries the session token."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import dateformat, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tipline.crypto import passphrase as pp
from tipline.locker import incident_dates
from tipline.web.forms import MAX_SHORT, MAX_TEXT, CleanCharField, SubmissionTokenField

MAX_PASSPHRASE = 200
MAX_IDENTIFIERS = 50


class SessionField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=forms.HiddenInput, max_length=64, **kwargs)


class PassphraseInput(forms.TextInput):
    """Shown in clear on purpose: a long phrase is easier to type correctly when you see it.

    Autocomplete, spelling and capitalisation help are off so a phone does not keep a copy.
    """

    def __init__(self) -> None:
        super().__init__(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "none",
                "autocorrect": "off",
                "spellcheck": "false",
            }
        )

    def format_value(self, value: Any) -> str | None:
        # Never sent back in a page: a typo'd passphrase is retyped, not left in the HTML.
        return None


CHOICE_GENERATED = "generated"
CHOICE_OWN = "own"


class CreateForm(forms.Form):
    generated = forms.CharField(widget=forms.HiddenInput, max_length=MAX_PASSPHRASE)
    choice = forms.ChoiceField(
        label=_("Which passphrase do you want?"),
        choices=[
            (CHOICE_GENERATED, _("Use the passphrase shown above")),
            (CHOICE_OWN, _("I will choose my own")),
        ],
        initial=CHOICE_GENERATED,
        widget=forms.RadioSelect,
    )
    own = forms.CharField(
        label=_("Your own passphrase"),
        help_text=_(
            "Several unrelated words are easiest to remember and hard to guess. It must be strong: "
            "about six or seven random words, or a long sentence only you would write."
        ),
        max_length=MAX_PASSPHRASE,
        required=False,
        widget=PassphraseInput(),
    )
    own_again = forms.CharField(
        label=_("Type your own passphrase again"),
        max_length=MAX_PASSPHRASE,
        required=False,
        widget=PassphraseInput(),
    )
    written_down = forms.BooleanField(
        label=_(
            "I have written my passphrase down and kept it somewhere safe. I understand that "
            "nobody can open my locker without it, not even the hotline."
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("choice") == CHOICE_OWN:
            own, again = cleaned.get("own") or "", cleaned.get("own_again") or ""
            if not own:
                self.add_error("own", _("Type the passphrase you chose."))
            elif pp.normalise(own) != pp.normalise(again):
                self.add_error("own_again", _("The two passphrases are not the same."))
            elif not pp.estimate(own).strong_enough:
                self.add_error(
                    "own",
                    _(
                        "This passphrase could be guessed too easily, and your locker deserves "
                        "better. Add more unrelated words (six or seven is good), or use the "
                        "passphrase we made for you."
                    ),
                )
        elif not pp.looks_generated(cleaned.get("generated") or ""):
            # Only a tampered form gets here: the page always carries a fresh strong passphrase.
            self.add_error("choice", _("Please use the passphrase shown on this page."))
        return cleaned

    def passphrase(self) -> str:
        key = "own" if self.cleaned_data["choice"] == CHOICE_OWN else "generated"
        return str(self.cleaned_data[key])


class OpenForm(forms.Form):
    passphrase = forms.CharField(
        label=_("Your passphrase"),
        max_length=MAX_PASSPHRASE,
        widget=PassphraseInput(),
    )


class DeleteForm(forms.Form):
    """The second confirmation before a locker is deleted: its passphrase, typed again."""

    session = SessionField()
    passphrase = forms.CharField(
        label=_("Type your passphrase to delete this locker for ever"),
        max_length=MAX_PASSPHRASE,
        widget=PassphraseInput(),
    )


class ImportForm(forms.Form):
    session = SessionField()
    file = forms.FileField(
        label=_("Choose an export file"),
        help_text=_(
            "An e-mail saved as .eml, a WhatsApp chat export (.txt or .zip), a Telegram export "
            "(result.json), Instagram or Facebook messages (.json), an SMS Backup & Restore file "
            "(.xml), or a screenshot."
        ),
    )


class IncidentForm(forms.Form):
    session = SessionField()
    incident = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    occurred_at = CleanCharField(
        label=_("When did it happen?"),  # the help text names the zone: see __init__
        required=False,
        max_length=incident_dates.MAX_CHARS,
    )
    platform = CleanCharField(
        label=_("Where did it happen?"),
        help_text=_("The app, website, phone call or place."),
        max_length=MAX_SHORT,
        required=False,
    )
    what_happened = CleanCharField(
        label=_("What happened?"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    accounts = CleanCharField(
        label=_("Which accounts, numbers or addresses were used?"),
        max_length=MAX_SHORT * 5,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    impact = CleanCharField(
        label=_("How did it affect you?"),
        help_text=_("For example: I was afraid to go out, I changed my route, I missed work."),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    evidence = forms.TypedMultipleChoiceField(
        label=_("Evidence that shows it"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        evidence: list[tuple[int, str]],
        zone: ZoneInfo,
        now: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.now = now or timezone.now()
        field = self.fields["evidence"]
        if isinstance(field, forms.TypedMultipleChoiceField):
            field.choices = evidence
        if not evidence:
            del self.fields["evidence"]
        self.fields["occurred_at"].help_text = _(
            "As you would say it, for example “14 March 2024 at 11pm” or “yesterday 9pm”, "
            "in %(zone)s time (change it in Settings). We show you how we read it before it is "
            "saved. Leave empty if you don't know."
        ) % {"zone": zone.key}

    def clean_occurred_at(self) -> datetime | None:
        """The moment, aware in the locker's zone. A reading the victim has not seen yet is
        shown back (the field is rewritten as YYYY-MM-DD HH:MM) and the form asks again."""
        text = self.cleaned_data.get("occurred_at") or ""
        if not text:
            return None
        try:
            when = datetime.strptime(text, incident_dates.CANONICAL).replace(tzinfo=self.zone)
        except ValueError:
            when = None
        if when is not None:
            if when > self.now + timedelta(minutes=5):
                raise ValidationError(self._future_message(), code="future")
            return when
        try:
            when = incident_dates.read(
                text, zone=self.zone, now=self.now, language=get_language() or "en"
            )
        except incident_dates.InTheFuture:
            raise ValidationError(self._future_message(), code="future") from None
        except incident_dates.NotADate:
            raise ValidationError(
                _(
                    "We could not read this as a date. Try for example “14 March 2024 at "
                    "11pm”, “yesterday 9pm” or 2024-03-14 23:00."
                ),
                code="unreadable",
            ) from None
        local = when.astimezone(self.zone)
        data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
        data[self.add_prefix("occurred_at")] = local.strftime(incident_dates.CANONICAL)
        self.data = data  # the page shows the reading in the field, ready to be confirmed
        raise ValidationError(
            _(
                "We read this as %(day)s, %(when)s. If that is right, press the button again "
                "to save; if not, correct it."
            )
            % {
                "day": dateformat.format(local, "l j F Y"),
                "when": incident_dates.clock(when, self.zone),
            },
            code="confirm",
        )

    @staticmethod
    def _future_message() -> str:
        return str(
            _("This is later than now. Write down when it happened, or leave the date empty.")
        )


class SettingsForm(forms.Form):
    session = SessionField()
    title = CleanCharField(
        label=_("Page title"),
        help_text=_(
            "What the browser tab and history show while your locker is open, for example "
            "“Recipes” or “Notes”. Leave empty for the usual title."
        ),
        max_length=60,
        required=False,
    )
    time_zone = forms.ChoiceField(
        label=_("Your time zone"),
        help_text=_(
            "Dates you write in the incident log are read in this zone, and the PDF shows them "
            "with its name. It starts as the hotline's zone, never your browser's."
        ),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["time_zone"]
        if isinstance(field, forms.ChoiceField):
            field.choices = [(n, n.replace("_", " ")) for n in incident_dates.zone_names()]


class ResponsibleForm(forms.Form):
    session = SessionField()
    responsible = forms.MultipleChoiceField(
        label=_("These accounts belong to the person responsible"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, identifiers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["responsible"]
        if isinstance(field, forms.MultipleChoiceField):
            field.choices = [(value, value) for value in identifiers[:500]]

    def clean_responsible(self) -> list[str]:
        chosen = list(self.cleaned_data.get("responsible") or [])
        if len(chosen) > MAX_IDENTIFIERS:
            raise ValidationError(
                _("Please mark at most %(max)d accounts."), params={"max": MAX_IDENTIFIERS}
            )
        return chosen


class HandoverForm(forms.Form):
    session = SessionField()
    # Sending the same hand-over twice (a double click, a reload) returns the first receipt.
    submission = SubmissionTokenField()
    scope = forms.ChoiceField(
        label=_("What do you want to send?"),
        choices=[
            ("all", _("The whole log: every incident and every imported file")),
            ("chosen", _("The incident log and only the files I choose below")),
        ],
        initial="all",
        widget=forms.RadioSelect,
    )
    evidence = forms.TypedMultipleChoiceField(
        label=_("Files to include"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = CleanCharField(
        label=_("Anything you want to tell the hotline (optional)"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_(
            "I understand that the hotline's analysts will be able to read what I send. "
            "My locker stays private."
        ),
    )

    def __init__(self, *args: Any, evidence: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["evidence"]
        if isinstance(field, forms.TypedMultipleChoiceField):
            field.choices = evidence

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("scope") == "chosen" and not cleaned.get("evidence"):
            self.add_error("evidence", _("Choose at least one file, or send the whole log."))
        return cleaned
