"""Form fields shared by every public form (report, follow-up, evidence locker).

They live here, below the apps, so that no app imports a sibling's forms. Two promises hold for
each of them: nothing a person typed is cut silently, and a file that cannot be taken is refused
with a message at its field while the rest of the form is kept.

* Text fields carry their limit as ``data-maxlength`` instead of the HTML ``maxlength``: a
  browser silently cuts pasted text at ``maxlength``. The server checks the length and answers
  with the form, every word kept; the site's script shows a counter (``site.js``).
* File fields describe their limits (size, count, types) to the site's script, which checks a
  choice before anything is sent; the server checks again (``tipline.web.uploads``).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from tipline.cases.submissions import SUBMISSION_TOKEN

MAX_TEXT = 20_000
MAX_SHORT = 200
MAX_LINES = 50
MAX_URL = 2048


def strip_controls(value: str) -> str:
    """Remove invisible control characters (NUL, escape sequences…) but keep tabs and newlines.

    Format characters such as zero-width joiners stay: Devanagari and other scripts need them.
    """
    value = value.replace("\r\n", "\n")
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")


class CountedLength(forms.CharField):
    """A text field whose limit is counted for the reader, never enforced by cutting."""

    # A free-text box shows its counter from the start; other fields only near their limit.
    counted_from_start = True
    default_error_messages = {
        "max_length": _(
            "This is %(show_value)d characters long and we can take %(limit_value)d. Nothing "
            "has been cut: shorten it and send again."
        ),
    }

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs: dict[str, Any] = super().widget_attrs(widget)
        # Never the HTML maxlength: browsers cut pasted text there without a word. The limit
        # goes to the script's counter instead; the server refuses longer text and keeps it.
        if "maxlength" in attrs:
            attrs["data-maxlength"] = attrs.pop("maxlength")
            if isinstance(widget, forms.Textarea) and self.counted_from_start:
                attrs["data-count"] = "always"
        return attrs


class CleanCharField(CountedLength):
    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return strip_controls(text).strip() if text else (text or "")


class EmailField(CountedLength, forms.EmailField):
    pass


class LinesField(CleanCharField):
    """A textarea taking one item per line; cleans to a list of unique non-empty items."""

    item_label = _("line")
    counted_from_start = False  # its limit is items and their length, checked per line

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


# What the site's script checks before a file is sent (the server sniffs the bytes again).
ACCEPT = (
    ".jpg,.jpeg,.png,.gif,.webp,.pdf,.txt,"
    "image/jpeg,image/png,image/gif,image/webp,application/pdf,text/plain"
)


# One wording for the script (which fills in the placeholders before a file is sent) and for the
# server (which formats them when a file arrives anyway): the reporter reads the same sentence.
TOO_LARGE = _(
    "“%(name)s” is larger than %(mb)s MB, so we cannot take it. Choose a smaller file, or leave "
    "it out and describe it in words."
)
TOO_MANY = _("You chose %(count)s files; at most %(max)s can be sent at once.")
WRONG_TYPE = _(
    "“%(name)s” is not a file type we accept. Send screenshots as JPEG, PNG, GIF or "
    "WebP, documents as PDF or plain text."
)


def too_large_message(name: str) -> str:
    return str(TOO_LARGE) % {"name": name, "mb": settings.TIPLINE_MAX_FILE_BYTES // (1024 * 1024)}


def too_many_message(count: int) -> str:
    return str(TOO_MANY) % {"count": count, "max": settings.TIPLINE_MAX_FILES}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        # At render time, so the limits follow the settings and the messages the page language.
        # The script fills in the placeholders (%(name)s, %(count)s) for each chosen file.
        limits = {
            "accept": ACCEPT,
            "data-max-bytes": settings.TIPLINE_MAX_FILE_BYTES,
            "data-max-files": settings.TIPLINE_MAX_FILES,
            "data-mb": settings.TIPLINE_MAX_FILE_BYTES // (1024 * 1024),
            "data-too-large": TOO_LARGE,
            "data-too-many": TOO_MANY,
            "data-wrong-type": WRONG_TYPE,
        }
        return super().get_context(name, value, {**limits, **(attrs or {})})


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
