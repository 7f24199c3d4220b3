"""Audit entries in words ("ana1 revealed file 3f2a1b0c of report 1042abcd"), and the grouping of
the several entries one case opening makes.

The words are built from the entry's plain columns and details only (which never hold report
content); the JSON stays one click away on the audit page, as the chain seals it. An action this
table does not know is still shown, as its name, so a new action is never hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tipline.audit.chain import SYSTEM
from tipline.audit.models import AuditEntry
from tipline.cases.states import Outcome

# Sentences by action. Placeholders: who, report, file, target, and the named details below.
_SENTENCES: Mapping[str, Any] = {
    "report.view": gettext_lazy("%(who)s opened report %(report)s"),
    "report.decrypt": gettext_lazy("%(who)s read the content of report %(report)s"),
    "report.decrypt_contact": gettext_lazy(
        "%(who)s read the reporter's contact details on report %(report)s"
    ),
    "file.preview": gettext_lazy(
        "%(who)s loaded the blurred preview of file %(file)s of report %(report)s"
    ),
    "file.reveal": gettext_lazy("%(who)s revealed file %(file)s of report %(report)s"),
    "file.text": gettext_lazy("%(who)s read the text of file %(file)s of report %(report)s"),
    "file.original": gettext_lazy(
        "%(who)s downloaded the original of file %(file)s of report %(report)s"
    ),
    "file.matched": gettext_lazy("File %(file)s of report %(report)s matched a hash bank"),
    "report.claim": gettext_lazy("%(who)s claimed report %(report)s"),
    "report.assign": gettext_lazy("%(who)s assigned report %(report)s to %(to)s"),
    "report.message": gettext_lazy("%(who)s wrote to the reporter of report %(report)s"),
    "report.triaged": gettext_lazy(
        "Triage scored report %(report)s: %(score)s points, tier %(tier)s"
    ),
    "report.classify": gettext_lazy("%(who)s classified report %(report)s"),
    "report.note": gettext_lazy("%(who)s added a note to report %(report)s"),
    "report.link": gettext_lazy("%(who)s linked report %(report)s to report %(other)s"),
    "report.unlink": gettext_lazy("%(who)s unlinked report %(report)s from report %(other)s"),
    "report.review_requested": gettext_lazy(
        "%(who)s proposed “%(outcome)s” for report %(report)s, for a second review"
    ),
    "report.decided": gettext_lazy("%(who)s decided “%(outcome)s” for report %(report)s"),
    "report.decision_confirmed": gettext_lazy(
        "%(who)s confirmed the decision on report %(report)s"
    ),
    "report.decision_returned": gettext_lazy("%(who)s sent the decision on report %(report)s back"),
    "report.decision_withdrawn": gettext_lazy("%(who)s withdrew the decision on report %(report)s"),
    "report.reopened": gettext_lazy("%(who)s re-opened report %(report)s"),
    "report.legal_hold": gettext_lazy("%(who)s changed the legal hold on report %(report)s"),
    "report.cluster_split": gettext_lazy("%(who)s split the cluster of report %(report)s"),
    "referral.download": gettext_lazy(
        "%(who)s downloaded the referral package of report %(report)s"
    ),
    "referral.export": gettext_lazy("%(who)s exported the referral package of report %(report)s"),
    "referral.refused": gettext_lazy("A referral package of report %(report)s was refused"),
    "auth.sign_in": gettext_lazy("%(who)s signed in"),
    "auth.sign_in_failed": gettext_lazy("A sign-in as %(target)s failed"),
    "auth.locked": gettext_lazy("The account %(target)s was locked after failed sign-ins"),
    "auth.totp_enrolled": gettext_lazy("%(who)s set up their authenticator app"),
    "auth.totp_issued": gettext_lazy("%(who)s issued a new authenticator set-up for %(target)s"),
    "auth.sign_out": gettext_lazy("%(who)s signed out"),
    "auth.sign_out_everywhere": gettext_lazy("%(who)s signed out everywhere"),
    "staff.create": gettext_lazy("%(who)s created the staff account %(target)s"),
    "staff.disable": gettext_lazy("%(who)s disabled the staff account %(target)s"),
    "staff.set_role": gettext_lazy("%(who)s changed the role of %(target)s"),
    "staff.set_time_zone": gettext_lazy("%(who)s changed their time zone"),
    "audit.read": gettext_lazy("%(who)s read the audit log"),
}

# What opening a case records, in one request or just after (the file previews the page loads).
_OPENING = frozenset({"report.view", "report.decrypt", "report.decrypt_contact", "file.preview"})
_OPENING_SPAN = timedelta(minutes=1)


def _short(value: object) -> str:
    text = str(value or "")
    return text[:8] if len(text) == 36 else text  # a UUID's first block names it well enough


def report_of(entry: AuditEntry) -> str:
    """The report an entry concerns, or "" (files name theirs in the details)."""
    if entry.target_type == "report":
        return entry.target_id
    details = entry.details if isinstance(entry.details, dict) else {}
    return str(details.get("report") or "")


def _outcome(code: object) -> str:
    return str(Outcome(code).label) if code in Outcome.values else str(code or "—")


def _tier(tier: object) -> str:
    """["P3", "P1"] as "P3 → P1"; an unchanged tier once."""
    if isinstance(tier, list) and tier:
        steps = [str(t) for t in tier]
        return steps[0] if len(set(steps)) == 1 else " → ".join(steps)
    return str(tier or "—")


def _who(actor: str) -> str:
    return _("The system") if actor == SYSTEM else actor


def describe(entry: AuditEntry) -> str:
    details: dict[str, Any] = entry.details if isinstance(entry.details, dict) else {}
    tier = details.get("tier")
    if entry.action == "report.reopened" and details.get("reason") == "tier_raised":
        return _(
            "New information from the reporter raised report %(report)s from %(from)s to %(to)s "
            "and re-opened it"
        ) % {
            "report": _short(entry.target_id),
            "from": tier[0] if isinstance(tier, list) else "?",
            "to": tier[-1] if isinstance(tier, list) else "?",
        }
    if entry.action == "report.assign" and not details.get("to"):
        return _("%(who)s unassigned report %(report)s (it was with %(from)s)") % {
            "who": _who(entry.actor),
            "report": _short(entry.target_id),
            "from": details.get("from") or "—",
        }
    values = {
        "who": _who(entry.actor),
        "report": _short(report_of(entry)),
        "file": _short(entry.target_id) if entry.target_type == "file" else "",
        "target": entry.target_id,
        "to": details.get("to") or "—",
        "other": _short(details.get("other")),
        "outcome": _outcome(details.get("outcome")),
        "score": details.get("score", "—"),
        "tier": _tier(tier),
    }
    sentence = _SENTENCES.get(entry.action)
    if sentence is None:
        target = f" {entry.target_type} {_short(entry.target_id)}" if entry.target_type else ""
        return f"{values['who']}: {entry.action}{target}"
    return str(sentence) % values + _correction(details)


def _correction(details: Mapping[str, Any]) -> str:
    """A decision's tier correction (issue 20), and the rise it caused while the report was open."""
    right = details.get("right_tier")
    if not right:
        return ""
    tier = details.get("tier")
    if isinstance(tier, list) and len(tier) == 2 and tier[0] != tier[1]:
        return " " + _("(right tier: %(tier)s; the open report rose from %(from)s)") % {
            "tier": right,
            "from": tier[0],
        }
    return " " + _("(right tier: %(tier)s)") % {"tier": right}


@dataclass(frozen=True)
class EntryGroup:
    """One row of the audit page: a single entry, or the entries of one case opening."""

    entries: tuple[AuditEntry, ...]

    @property
    def first(self) -> AuditEntry:
        return self.entries[0]

    @property
    def last(self) -> AuditEntry:
        return self.entries[-1]

    @property
    def words(self) -> str:
        return describe(self.first) if len(self.entries) == 1 else self.summary

    @property
    def summary(self) -> str:
        opened = next((e for e in self.entries if e.action == "report.view"), self.first)
        return _("%(who)s opened report %(report)s (%(n)d entries)") % {
            "who": _who(opened.actor),
            "report": _short(report_of(opened)),
            "n": len(self.entries),
        }

    @property
    def items(self) -> list[tuple[AuditEntry, str]]:
        return [(e, describe(e)) for e in self.entries]


def _same_opening(group: list[AuditEntry], entry: AuditEntry) -> bool:
    head = group[0]
    return (
        head.action in _OPENING
        and entry.action in _OPENING
        and entry.actor == head.actor
        and report_of(entry) == report_of(head)
        and report_of(entry) != ""
        and abs(head.created_at - entry.created_at) <= _OPENING_SPAN
    )


def grouped(entries: Iterable[AuditEntry]) -> list[EntryGroup]:
    """Adjacent entries of one case opening as one group (in the order given: newest first)."""
    groups: list[list[AuditEntry]] = []
    for entry in entries:
        current = groups[-1] if groups else None
        # Newest first, an opening ends with its ``report.view`` (its oldest entry): a group
        # that holds one is complete, so two openings of a case a minute apart stay two rows.
        if (
            current is not None
            and _same_opening(current, entry)
            and not any(e.action == "report.view" for e in current)
        ):
            current.append(entry)
        else:
            groups.append([entry])
    return [EntryGroup(entries=tuple(g)) for g in groups]
