"""How the case view names and groups the answers in a report's sealed payload.

The console keeps its own labels rather than importing the public site's forms: the two trust
domains share models and actions, not presentation. An answer this table does not know (a field
added later) is still shown, under its field name, so nothing a reporter said is hidden.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from tipline.cases import classification_rules
from tipline.cases.classification import FIELD_LABELS, VOCABULARIES
from tipline.cases.models import Decision
from tipline.cases.states import DecisionStatus, Outcome

# Identifiers an analyst may need to copy but must never follow by accident: shown as plain text.
IDENTIFIERS = ("urls", "handles", "emails", "phones")

LABELS: dict[str, Promise] = {
    "what_happened": _("What happened"),
    "when": _("When"),
    "platform": _("Where (site or app)"),
    "urls": _("Web addresses (URLs)"),
    "handles": _("Usernames or profiles"),
    "emails": _("E-mail addresses"),
    "phones": _("Phone numbers"),
    "victim_age_group": _("Age of the person affected"),
    "victim_name": _("Name of the person affected"),
    "reporter_relation": _("How the reporter knows"),
    "child_location": _("Where the child is now"),
    "emergency_called": _("Emergency number called"),
    "meeting_planned": _("Meeting arranged or asked for"),
    "demand": _("What is demanded"),
    "deadline": _("Deadline given"),
    "threats_made": _("Threats made"),
    "knows_location": _("Knows where the victim lives, works or studies"),
}


_YES_NO: dict[str, Promise] = {"unknown": _("Not known"), "yes": _("Yes"), "no": _("No")}

# Coded answers, worded for staff (the public form words them for the reporter). A code not
# listed here is shown as it is, so nothing is hidden.
CODED: dict[str, dict[str, Promise]] = {
    "victim_age_group": {
        "unknown": _("Not known"),
        "0-5": _("Under 6"),
        "6-12": _("6 to 12"),
        "13-15": _("13 to 15"),
        "16-17": _("16 or 17"),
        "18+": _("18 or older"),
    },
    "reporter_relation": {
        "self": _("The reporter is the person affected"),
        "parent": _("Parent or carer"),
        "family_friend": _("Family member or friend"),
        "professional": _("Knows them through work"),
        "witness": _("Came across it online"),
        "other": _("Other or not said"),
    },
    "demand": {
        "unknown": _("Not known"),
        "money": _("Money, gift cards or cryptocurrency"),
        "images": _("More images or videos"),
        "meeting": _("To meet in person"),
        "other": _("Something else"),
    },
    "emergency_called": _YES_NO,
    "meeting_planned": _YES_NO,
    "threats_made": _YES_NO,
    "knows_location": _YES_NO,
}


def _display(name: str, value: Any) -> str:
    label = CODED.get(name, {}).get(str(value))
    return str(label) if label is not None else str(value)


@dataclass(frozen=True)
class Answer:
    name: str
    label: Promise | str
    text: str  # free text or a coded answer
    items: tuple[str, ...]  # identifiers, one per entry
    identifier: bool
    # The text with triage's matched words wrapped in <mark> (escaped; None when none matched).
    marked: SafeString | None = None


# Who a highlighted range comes from: the rules (words that fired a rule) or the learned model
# (words that weighed most in its opinion, issue 20). Each kind has its own class; words both
# marked carry both classes, so neither reason hides the other. The case view's legend
# (``console/_triage.html``) explains them.
RULE, MODEL = "rule", "model"
_MARK_CLASS = {RULE: "triage-span", MODEL: "model-span"}
_MARK_TITLE = {
    RULE: _("fired a triage rule"),
    MODEL: _("weighed most in the learned model's opinion"),
}
Mark = tuple[int, int, str]  # [start, end) and its kind (RULE or MODEL)


def highlight(text: str, ranges: Sequence[Mark]) -> SafeString:
    """Escape ``text`` and wrap each [start, end) range in <mark>; newlines become <br>.

    Ranges of both kinds may overlap: the text is cut at every range's ends and each piece is
    marked with the kinds covering it. Ranges come from our own scorer, but are clamped here
    anyway: the output is built only from escaped pieces and fixed tags, so no range can inject
    markup.
    """
    clamped = [
        (max(0, start), min(end, len(text)), kind)
        for start, end, kind in ranges
        if kind in _MARK_CLASS
    ]
    clamped = [r for r in clamped if r[0] < r[1]]
    cuts = sorted({0, len(text)} | {r[0] for r in clamped} | {r[1] for r in clamped})
    # Pieces between cuts, with the kinds covering each; neighbours of the same kinds are joined
    # into one mark, so a phrase is not split for a screen reader by an overlap's cut.
    pieces: list[tuple[int, int, tuple[str, ...]]] = []
    for start, end in itertools.pairwise(cuts):
        kinds = tuple(sorted({kind for s, e, kind in clamped if s <= start and end <= e}))
        if pieces and pieces[-1][2] == kinds:
            pieces[-1] = (pieces[-1][0], end, kinds)
        else:
            pieces.append((start, end, kinds))
    out = []
    for start, end, kinds in pieces:
        if not kinds:
            out.append(escape(text[start:end]))
            continue
        out.append(
            format_html(
                '<mark class="{}" title="{}">{}</mark>',
                " ".join(_MARK_CLASS[k] for k in kinds),
                "; ".join(str(_MARK_TITLE[k]) for k in kinds),
                text[start:end],
            )
        )
    joined = "".join(str(p) for p in out)
    return mark_safe(joined.replace("\n", "<br>"))  # noqa: S308


def _blank(value: Any) -> bool:
    return value in ("", None, [], {})


def answered_fields(
    details: dict[str, Any], marks: Mapping[str, Sequence[Mark]] | None = None
) -> list[Answer]:
    """Every answered field, in the order of LABELS, then any unknown ones by name.

    ``marks`` are triage's ranges per field (the rules' and the model's); those fields get a
    highlighted rendering.
    """
    marks = marks or {}
    order = [name for name in LABELS if name in details]
    order += sorted(name for name in details if name not in LABELS)
    answers = []
    for name in order:
        value = details[name]
        if _blank(value):
            continue
        items = tuple(str(v) for v in value) if isinstance(value, list) else ()
        answers.append(
            Answer(
                name=name,
                label=LABELS.get(name, name),
                text="" if items else _display(name, value),
                items=items,
                identifier=name in IDENTIFIERS or bool(items),
                marked=(
                    highlight(value, marks[name])
                    if name in marks and isinstance(value, str)
                    else None
                ),
            )
        )
    return answers


CONTACT_LABELS: dict[str, Promise] = {
    "contact_name": _("Name"),
    "contact_email": _("E-mail"),
    "contact_phone": _("Phone"),
    "contact_notes": _("When and how it is safe to contact them"),
}


def contact_fields(contact: dict[str, str] | None) -> list[tuple[Promise | str, str]]:
    if not contact:
        return []
    return [(CONTACT_LABELS.get(name, name), value) for name, value in contact.items() if value]


@dataclass(frozen=True)
class ClassificationRow:
    name: str
    label: Promise
    code: str
    text: str


def classification_rows(values: dict[str, str], category: str) -> list[ClassificationRow]:
    """The classification as label/value rows: the category's fields (unset ones as "Not set")
    and any other field that holds a code."""
    asked = classification_rules.load().fields_for(category)
    rows = []
    for name, vocabulary in VOCABULARIES.items():
        code = values.get(name, "")
        if name not in asked and not code:
            continue
        text = str(vocabulary(code).label) if code else str(_("Not set"))
        rows.append(ClassificationRow(name, FIELD_LABELS[name], code, text))
    return rows


@dataclass(frozen=True)
class DecisionRow:
    outcome: str
    agency: str
    status: str
    status_code: str
    four_eyes: bool
    proposed_by: str
    proposed_at: datetime
    reviewed_by: str
    reviewed_at: datetime | None
    right_tier: str  # the analyst's tier correction, "" for "leave as triaged"


def decision_row(decision: Decision) -> DecisionRow:
    return DecisionRow(
        outcome=str(Outcome(decision.outcome).label),
        agency=decision.agency,
        status=str(DecisionStatus(decision.status).label),
        status_code=decision.status,
        four_eyes=decision.needs_second_review,
        proposed_by=decision.proposed_by.username,
        proposed_at=decision.proposed_at,
        reviewed_by=decision.reviewed_by.username if decision.reviewed_by else "",
        reviewed_at=decision.reviewed_at,
        right_tier=decision.right_tier,
    )
