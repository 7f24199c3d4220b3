"""The reporter's forms, shared by the no-JavaScript web form (intake) and the JSON API.

One form definition serves both channels so that the API accepts exactly "the same fields as the
form" and both give the same specific messages. Fields that do not apply to a category are removed
when the form is built for it (for example, no file upload and no victim name for ``csam``).

It lives in ``tipline.web``, the layer between the report domain (``tipline.cases``) and the
adapters that take reports (``tipline.intake`` and ``tipline.api``), so neither adapter imports
the other; the generic fields come from ``tipline.web.forms``.
"""

from __future__ import annotations

import functools
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tipline import countries
from tipline.cases import categories
from tipline.web.forms import (
    MAX_SHORT,
    MAX_TEXT,
    AnswerField,
    CleanCharField,
    EmailField,
    EmailLinesField,
    LinesField,
    MultipleFileField,
    PhoneLinesField,
    SubmissionTokenField,
    UrlLinesField,
    check_phone,
)

MAX_BODY = 10_000  # a follow-up message


AGE_GROUPS = [
    ("unknown", _("I don't know")),
    ("0-5", _("Under 6")),
    ("6-12", _("6 to 12")),
    ("13-15", _("13 to 15")),
    ("16-17", _("16 or 17")),
    ("18+", _("18 or older")),
]

RELATIONS = [
    ("self", _("It is happening to me")),
    ("parent", _("I am a parent or carer of the person")),
    ("family_friend", _("I am a family member or friend")),
    ("professional", _("I know them through work (teacher, social worker…)")),
    ("witness", _("I came across it online")),
    ("other", _("Other or I'd rather not say")),
]

YES_NO_UNKNOWN = [("unknown", _("I don't know")), ("yes", _("Yes")), ("no", _("No"))]

DEMANDS = [
    ("unknown", _("I don't know")),
    ("money", _("Money, gift cards or cryptocurrency")),
    ("images", _("More images or videos")),
    ("meeting", _("To meet in person")),
    ("other", _("Something else")),
]

CONTACT_CHOICES = [
    ("anonymous", _("Stay anonymous. We cannot contact you; use your receipt to check back.")),
    ("contact", _("Let the hotline contact me.")),
]


def _country_choices() -> list[tuple[str, Any]]:
    # A callable, so the names follow the language of each request.
    return [("", _("Prefer not to say")), *countries.by_name()]


class ReportForm(forms.Form):
    submission = SubmissionTokenField()
    what_happened = CleanCharField(
        label=_("What happened?"),
        help_text=_("In your own words. Include what was said or shown, and by whom."),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    when = CleanCharField(
        label=_("When did it happen?"),
        help_text=_("A date and time if you know it, or something like “last Tuesday evening”."),
        max_length=MAX_SHORT,
        required=False,
    )
    platform = CleanCharField(
        label=_("Where did it happen?"),
        help_text=_("The website, app or game, for example Instagram or Roblox."),
        max_length=MAX_SHORT,
        required=False,
    )
    # Stored as an ISO 3166-1 code on the report so analysts know where it could be referred.
    # Only what the reporter picks: no location is ever looked up.
    country = forms.ChoiceField(
        label=_("Which country is this happening in? (optional)"),
        help_text=_("It helps us pass your report to the right police or hotline."),
        required=False,
        choices=_country_choices,
        widget=countries.QuickSelect,
        error_messages={"invalid_choice": _("Choose a country from the list.")},
    )
    urls = UrlLinesField(
        label=_("Web addresses (URLs)"),
        help_text=_("One per line. Copy them from the address bar."),
    )
    handles = LinesField(
        label=_("Usernames or profile names of the person responsible"),
        help_text=_("One per line, as shown in the app."),
    )
    emails = EmailLinesField(
        label=_("E-mail addresses of the person responsible"), help_text=_("One per line.")
    )
    phones = PhoneLinesField(
        label=_("Phone numbers of the person responsible"),
        help_text=_("One per line, with the country code if you know it."),
    )
    victim_age_group = AnswerField(
        label=_("How old is the child or person affected?"), choices=AGE_GROUPS, initial="unknown"
    )
    victim_name = CleanCharField(
        label=_("Their name (optional)"),
        help_text=_("Leave this empty unless you want to tell us. We do not need it to act."),
        max_length=MAX_SHORT,
        required=False,
    )
    reporter_relation = AnswerField(
        label=_("How do you know about this?"), choices=RELATIONS, initial="other"
    )
    # Category-specific questions; removed from the form for categories that do not ask them.
    child_location = CleanCharField(
        label=_("Where is the child now, if you know?"),
        help_text=_("An address, school, town or place. Only if you know it."),
        max_length=MAX_SHORT * 2,
        required=False,
    )
    emergency_called = AnswerField(
        label=_("Have you called the emergency number?"), choices=YES_NO_UNKNOWN, initial="unknown"
    )
    meeting_planned = AnswerField(
        label=_("Has the person arranged or asked to meet the child?"),
        choices=YES_NO_UNKNOWN,
        initial="unknown",
    )
    demand = AnswerField(label=_("What are they demanding?"), choices=DEMANDS, initial="unknown")
    deadline = CleanCharField(
        label=_("Did they set a deadline?"),
        help_text=_("For example “by 9 pm tonight”."),
        max_length=MAX_SHORT,
        required=False,
    )
    threats_made = AnswerField(
        label=_("Has the person threatened anyone?"), choices=YES_NO_UNKNOWN, initial="unknown"
    )
    knows_location = AnswerField(
        label=_("Does the person know where the victim lives, works or studies?"),
        choices=YES_NO_UNKNOWN,
        initial="unknown",
    )
    attachments = MultipleFileField(
        label=_("Screenshots or documents (optional)"),
        help_text=_("Up to 10 files: JPEG, PNG, GIF, WebP, PDF or plain text, 20 MB each."),
    )
    contact_choice = AnswerField(
        label=_("Do you want us to be able to contact you?"),
        choices=CONTACT_CHOICES,
        initial="anonymous",
        widget=forms.RadioSelect,
    )
    contact_name = CleanCharField(label=_("Name"), max_length=MAX_SHORT, required=False)
    contact_email = EmailField(label=_("E-mail"), max_length=254, required=False)
    contact_phone = CleanCharField(label=_("Phone"), max_length=40, required=False)
    contact_notes = CleanCharField(
        label=_("When and how is it safe to contact you?"),
        max_length=MAX_SHORT * 2,
        required=False,
    )

    CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone", "contact_notes")
    OPTIONAL_EXTRAS = (
        "child_location",
        "emergency_called",
        "meeting_planned",
        "demand",
        "deadline",
        "threats_made",
        "knows_location",
    )
    # Fields whose value is a list (newline-separated in the web form, an array in the API).
    LIST_FIELDS = ("urls", "handles", "emails", "phones")

    def __init__(self, *args: Any, category: categories.Category, **kwargs: Any) -> None:
        # Django deep-copies base_fields for every form; copying only the category's fields (an
        # instance attribute over the class's) spares the copies that were deleted right after.
        self.base_fields = _category_fields(  # type: ignore[misc]  # shadows the class's
            type(self), category.extra_fields, category.allows_files
        )
        super().__init__(*args, **kwargs)
        self.category = category
        if category.code == "csam":
            # Abuse material: only where it is. No victim name, and URLs are the report.
            del self.fields["victim_name"]
            self.fields["urls"].required = True
            self.fields["urls"].help_text = _(
                "One per line. Copy each address from the address bar; do not visit the page again."
            )

    def clean_contact_phone(self) -> str:
        phone: str = self.cleaned_data.get("contact_phone", "")
        if phone and not check_phone(phone):
            raise ValidationError(_("This does not look like a phone number."))
        return phone

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        choice = cleaned.get("contact_choice")
        given = [name for name in self.CONTACT_FIELDS if cleaned.get(name)]
        if choice == "contact" and not (
            cleaned.get("contact_email") or cleaned.get("contact_phone")
        ):
            self.add_error(
                "contact_email", _("Give an e-mail address or a phone number so we can reach you.")
            )
        if choice == "anonymous" and given:
            self.add_error(
                "contact_choice",
                _(
                    "You chose to stay anonymous but filled in contact details. Choose “Let the "
                    "hotline contact me”, or clear the contact details."
                ),
            )
        return cleaned

    def details(self) -> dict[str, Any]:
        """The sealed payload: every answer except contact details and files."""
        skip = {"attachments", "contact_choice", "submission", *self.CONTACT_FIELDS}
        return {k: v for k, v in self.cleaned_data.items() if k not in skip}

    def contact(self) -> dict[str, str] | None:
        if self.cleaned_data.get("contact_choice") != "contact":
            return None
        return {k: self.cleaned_data[k] for k in self.CONTACT_FIELDS if self.cleaned_data.get(k)}


@functools.cache
def _category_fields(
    form: type[ReportForm], extra_fields: tuple[str, ...], allows_files: bool
) -> dict[str, forms.Field]:
    """The declared fields a category's form shows (shared: each form deep-copies them)."""
    dropped = {name for name in form.OPTIONAL_EXTRAS if name not in extra_fields}
    if not allows_files:
        dropped.add("attachments")
    return {name: field for name, field in form.base_fields.items() if name not in dropped}


class ReceiptForm(forms.Form):
    receipt = forms.CharField(
        label=_("Your receipt"),
        help_text=_("The 16 letters and numbers you were given, for example 7KQ2-M9XF-TR2B-8HZP."),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class MessageForm(ReceiptForm):
    submission = SubmissionTokenField()
    body = CleanCharField(
        label=_("Your message or new information"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    attachments = MultipleFileField(
        label=_("Add files (optional)"),
        help_text=_("JPEG, PNG, GIF, WebP, PDF or plain text, 20 MB each."),
    )
