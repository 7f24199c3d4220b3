"""How the case view names and groups the answers in a report's sealed payload.

The console keeps its own labels rather than importing the public site's forms: the two trust
domains share models and actions, not presentation. An answer this table does not know (a field
added later) is still shown, under its field name, so nothing a reporter said is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

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


@dataclass(frozen=True)
class Answer:
    name: str
    label: Promise | str
    text: str  # free text or a coded answer
    items: tuple[str, ...]  # identifiers, one per entry
    identifier: bool


def _blank(value: Any) -> bool:
    return value in ("", None, [], {})


def answered_fields(details: dict[str, Any]) -> list[Answer]:
    """Every answered field, in the order of LABELS, then any unknown ones by name."""
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
                text="" if items else str(value),
                items=items,
                identifier=name in IDENTIFIERS or bool(items),
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
