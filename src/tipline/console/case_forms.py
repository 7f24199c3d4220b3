"""Forms for the work done on a case: classification, decisions, notes and links.

Forms check shape only; the rules that span objects (state, who may decide, four eyes) are in
the actions (``tipline.cases.transitions`` and ``tipline.cases.review``).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tipline.cases.classification import VOCABULARIES
from tipline.cases.review import NOTE_MAX
from tipline.cases.states import Outcome
from tipline.cases.transitions import agency_choices

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

CLASSIFICATION_LABELS: dict[str, _StrPromise] = {
    "legal_assessment": _("Legal assessment"),
    "severity": _("Severity (IWF category)"),
    "industry_category": _("Industry category"),
    "victim_age_group": _("Victim age group"),
    "victim_gender": _("Victim gender"),
    "content_type": _("Content type"),
    "site_type": _("Site type"),
}


class ClassificationForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, vocabulary in VOCABULARIES.items():
            self.fields[name] = forms.ChoiceField(
                label=CLASSIFICATION_LABELS[name],
                required=False,
                choices=[("", _("Not set")), *vocabulary.choices],
            )

    def values(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in VOCABULARIES}


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("", _("Choose…")), *Outcome.choices],
        error_messages={"required": _("Choose an outcome.")},
    )
    agency = forms.ChoiceField(
        label=_("Refer to (for a referral)"),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["agency"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared just above
        field.choices = [("", _("No agency")), *((a, a) for a in agency_choices())]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        outcome, agency = cleaned.get("outcome"), cleaned.get("agency")
        if outcome == Outcome.REFERRED and not agency:
            self.add_error("agency", _("Choose the agency the report is referred to."))
        elif outcome and outcome != Outcome.REFERRED and agency:
            self.add_error("agency", _("An agency is chosen only for a referral."))
        return cleaned


class _OwnIds(forms.Form):
    """Several forms share the case page: each gets its own element ids (names are unchanged)."""

    id_prefix = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class NoteForm(_OwnIds):
    id_prefix = "note"
    body = forms.CharField(
        label=_("Internal note"),
        help_text=_("Seen by staff only, never by the reporter. Erased with the report."),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the note first.")},
    )


class LinkForm(_OwnIds):
    id_prefix = "link"
    other = forms.CharField(
        label=_("Related report"),
        help_text=_("The full report id, as shown under the case title."),
        max_length=64,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        error_messages={"required": _("Enter the id of the related report.")},
    )

    def clean_other(self) -> uuid.UUID:
        try:
            return uuid.UUID(self.cleaned_data["other"].strip())
        except ValueError:
            raise ValidationError(_("That is not a report id.")) from None
