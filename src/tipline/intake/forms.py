"""The report and follow-up forms, shared by the no-JavaScript web form and the JSON API.

One form definition serves both channels so that the API accepts exactly "the same fields as the
form" and both give the same specific messages. Fields that do not apply to a category are removed
when the form is built for it (for example, no file upload and no victim name for ``csam``).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from tipline import countries
from tipline.cases import categories

MAX_TEXT = 20_000
MAX_SHORT = 200
MAX_LINES = 50
MAX_URL = 2048
MAX_BODY = 10_000


def strip_controls(value: str) -> str:
    """Remove invisible control characters (NUL, escape sequences…) but keep tabs and newlines.

    Format characters such as zero-width joiners stay: Devanagari and other scripts need them.
    """
    value = value.replace("\r\n", "\n")
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")


class CleanCharField(forms.CharField):
    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return strip_controls(text).strip() if text else (text or "")


class LinesField(CleanCharField):
    """A textarea taking one item per line; cleans to a list of unique non-empty items."""

    item_label = _("line")

    def __init__(self, *, max_item: int = MAX_SHORT, **kwargs: Any) -> None:
        self.max_item = max_item
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        kwargs.setdefault("max_length", MAX_LINES * (max_item + 1))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value)
        items: list[str] = []
        for raw in text.split("\n") if text else []:
            item = raw.strip()
            if item and item not in items:
                items.append(item)
        if len(items) > MAX_LINES:
            raise ValidationError(
                _("Please give at most %(max)d, one per line."), params={"max": MAX_LINES}
            )
        for number, item in enumerate(items, start=1):
            if len(item) > self.max_item:
                raise ValidationError(
                    _("Line %(n)d is longer than %(max)d characters."),
                    params={"n": number, "max": self.max_item},
                )
            self.check_item(number, item)
        return items

    def check_item(self, number: int, item: str) -> None:
        return None


class UrlLinesField(LinesField):
    _validator = URLValidator(schemes=["http", "https", "ftp", "ftps"])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_item=MAX_URL, **kwargs)

    def clean(self, value: Any) -> list[str]:
        items = super().clean(value)
        # People paste "example.com/page" without a scheme; accept it the way a browser would.
        return [item if "://" in item else f"http://{item}" for item in items]

    def check_item(self, number: int, item: str) -> None:
        candidate = item if "://" in item else f"http://{item}"
        try:
            self._validator(candidate)
        except ValidationError as exc:
            raise ValidationError(
                _("Line %(n)d does not look like a web address: %(item)s"),
                params={"n": number, "item": item[:80]},
            ) from exc


class EmailLinesField(LinesField):
    _validator = EmailValidator()

    def check_item(self, number: int, item: str) -> None:
        try:
            self._validator(item)
        except ValidationError as exc:
            raise ValidationError(
                _("Line %(n)d does not look like an e-mail address: %(item)s"),
                params={"n": number, "item": item[:80]},
            ) from exc


_PHONE_CHARS = set("0123456789+()-. /")


def check_phone(item: str) -> bool:
    digits = sum(ch.isdigit() for ch in item)
    return set(item) <= _PHONE_CHARS and 5 <= digits <= 20


class PhoneLinesField(LinesField):
    def check_item(self, number: int, item: str) -> None:
        if not check_phone(item):
            raise ValidationError(
                _("Line %(n)d does not look like a phone number: %(item)s"),
                params={"n": number, "item": item[:80]},
            )


class AnswerField(forms.ChoiceField):
    """A multiple-choice question whose unanswered state is its default (usually "I don't know").

    A select in the web form always submits a value; an API client may leave it out.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        cleaned = super().clean(value)
        return str(cleaned or self.initial)


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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Cleans to a list of uploaded files; content checks happen in evidence.validate."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


SUBMISSION_TOKEN = re.compile(r"\A[A-Za-z0-9_-]{16,128}\Z")


def new_submission_token() -> str:
    return secrets.token_urlsafe(24)


class SubmissionTokenField(forms.CharField):
    """Hidden one-time token: sending the same form twice returns the first answer.

    A missing or malformed token is dropped rather than refused: the submission then simply
    has no protection against being sent twice.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=forms.HiddenInput, required=False, **kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        return text if SUBMISSION_TOKEN.match(text or "") else ""


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
    contact_email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
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
        super().__init__(*args, **kwargs)
        self.category = category
        for name in self.OPTIONAL_EXTRAS:
            if name not in category.extra_fields:
                del self.fields[name]
        if not category.allows_files:
            del self.fields["attachments"]
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
