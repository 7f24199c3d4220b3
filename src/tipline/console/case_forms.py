"""Forms for the work done on a case: classification, decisions, notes and links.

Forms check shape only; the rules that span objects (state, who may decide, four eyes) are in
the actions (``tipline.cases.transitions`` and ``tipline.cases.review``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tipline.cases import classification_rules
from tipline.cases.classification import FIELD_LABELS, VOCABULARIES
from tipline.cases.review import NOTE_MAX
from tipline.cases.states import Outcome
from tipline.cases.transitions import agency_choices
from tipline.console import replies
from tipline.triage.tiers import Tier


class ClassificationForm(forms.Form):
    """The fields this report's category asks (``data/classification.toml``). Unset fields may
    carry a suggestion from the reporter's answers: marked as such, saved only with the form."""

    def __init__(
        self,
        *args: Any,
        category: str,
        suggested: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        suggested = suggested or {}
        if suggested and not args and "data" not in kwargs:
            kwargs["initial"] = {**suggested, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        for name in classification_rules.load().fields_for(category):
            field = forms.ChoiceField(
                label=FIELD_LABELS[name],
                required=False,
                choices=[("", _("Not set")), *VOCABULARIES[name].choices],
            )
            if name in suggested:
                field.help_text = _("Suggested")
                # The template gives the help text this id (auto_id is "id_%s").
                field.widget.attrs["aria-describedby"] = f"id_{name}-help"
            self.fields[name] = field

    @property
    def has_suggestions(self) -> bool:
        return any(field.help_text for field in self.fields.values())

    def values(self) -> dict[str, str]:
        """Only this form's fields: one a category does not ask keeps whatever it holds."""
        return {name: self.cleaned_data.get(name) or "" for name in self.fields}


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
    # The analyst's tier correction (issue 20): the learned model's label for this report.
    right_tier = forms.ChoiceField(
        label=_("Right tier"),
        required=False,
        choices=[("", _("Leave as triaged")), *((t.value, t.value) for t in Tier)],
        help_text=_(
            "If the triage tier was wrong, the tier this report should have had. The learned "
            "model learns from it. A closed report keeps its place; a report waiting for a "
            "second review rises to a more urgent tier at once."
        ),
        error_messages={"invalid_choice": _("Choose a tier from the list.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["agency"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared just above
        field.choices = [("", _("No agency")), *((a, a) for a in agency_choices())]
        # The template gives the help text this id (auto_id is "id_%s").
        self.fields["right_tier"].widget.attrs["aria-describedby"] = "id_right_tier-help"

    def correction(self) -> Tier | None:
        """The chosen tier correction, None for "leave as triaged"; call only when valid."""
        value = self.cleaned_data.get("right_tier")
        return Tier(value) if value else None

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


class ReplyTemplateForm(_OwnIds):
    """Which reply template to put into the message to the reporter, and in which language."""

    id_prefix = "reply"
    template = forms.ChoiceField(label=_("Reply template"))
    language = forms.ChoiceField(
        label=_("Template language"),
        # Each language named in itself, as on the public site's switcher.
        choices=[(code, name) for code, name in settings.LANGUAGES if code in replies.LANGUAGES],
    )

    def __init__(self, *args: Any, category: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category = category
        field = self.fields["template"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared just above
        # Titles in the analyst's own language; the text follows the language chosen.
        titles = replies.for_category(category, replies.reporter_language(get_language()))
        field.choices = [(reply.key, reply.title) for reply in titles]

    def reply(self) -> replies.Reply | None:
        """The chosen template; call only when ``is_valid()``."""
        return replies.find(
            self.cleaned_data["template"], self.cleaned_data["language"], self.category
        )
