"""The case view's page: everything the case template shows, built from one audited read.

Used by the case view itself and by every case action that re-renders the page with a form's
errors in place (``console/decisions.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tipline.cases import casework, categories, classification_rules, queue
from tipline.cases.classification import FIELD_LABELS
from tipline.cases.models import Report
from tipline.cases.policies import ReportPolicy
from tipline.cases.states import DecisionStatus, Outcome, ReportState
from tipline.cases.triage_step import MODEL_WORD
from tipline.console import replies
from tipline.console.case_forms import (
    ClassificationForm,
    DecisionForm,
    LinkForm,
    NoteForm,
    ReplyTemplateForm,
)
from tipline.console.fields import (
    MODEL,
    RULE,
    Mark,
    answered_fields,
    classification_rows,
    contact_fields,
    decision_row,
)
from tipline.console.forms import AssignForm, HotlineMessageForm
from tipline.console.notices import notices_context
from tipline.console.shared import no_store, staff_of
from tipline.exchange.selectors import case_forwarding
from tipline.guidance import jurisdictions
from tipline.outputs.cybertipline import SENDING, api_options
from tipline.outputs.email_delivery import email_options
from tipline.outputs.policies import ReferralApiPolicy, ReferralEmailPolicy, ReferralPackagePolicy
from tipline.staff.models import StaffUser
from tipline.triage import engine

# Structured parts of a report's details shown by their own include, not as answers.
# Structured parts of a report's details shown by their own section, not as reporter answers:
# a locker hand-over's log, a CyberTipline submission, a partner hotline's forwarding (whose
# summary, URLs, hashes and classification are in its "what happened" text already).
PANELS = frozenset({"evidence_log", "cybertipline", "forwarded"})


def case_page(
    request: HttpRequest,
    report: Report,
    *,
    with_contact: bool = False,
    revealed: Collection[uuid.UUID] = (),
    message_form: HotlineMessageForm | None = None,
    forms: Mapping[str, Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the case view; ``forms`` carries a bound form with errors to show in place."""
    user = staff_of(request)
    case = casework.case_open(actor=user, report=report, with_contact=with_contact)
    forms = forms or {}
    now = timezone.now()
    deadline = queue.deadline_of(report.tier, report.created_at, report.tier_raised_at)
    context: dict[str, Any] = {
        "report": report,
        "case": case,
        "category": categories.get(report.category).label,
        "state": ReportState(report.state).label,
        "now": now,
        "deadline": deadline,
        "overdue": now > deadline,
        # A hand-over from the evidence locker carries its log as structured data, shown by
        # console/_evidence_log.html rather than as one more answer.
        "fields": answered_fields(
            {k: v for k, v in case.details.items() if k not in PANELS}, _marks(case)
        ),
        "evidence_log": case.details.get("evidence_log"),
        # A platform's report through /ispws: the partner, their id and the original XML
        # (console/_cybertipline.html); and referrals a CyberTipline-compatible service took.
        "cybertipline": case.details.get("cybertipline"),
        "submitted_referrals": list(report.referrals.exclude(external_id__in=("", SENDING))),
        "has_contact": report.contact is not None and report.contact_erased_at is None,
        "contact_erased": report.contact_erased_at is not None,
        "may_see_contact": ReportPolicy.may_see_contact(user),
        "may_write": ReportPolicy.may_claim(user),
        "contact": contact_fields(case.contact),
        "revealed": set(revealed),
        "known": case.known,
        "message_form": message_form or HotlineMessageForm(),
        "may_claim": ReportPolicy.may_claim(user) and report.assigned_to_id is None,
        "assign_form": (
            AssignForm(initial={"assignee": report.assigned_to})
            if ReportPolicy.may_assign_others(user)
            else None
        ),
        # Where the report could be referred, from the reporter's chosen country (None if unsaid).
        "referral": jurisdictions.get(report.country),
        # The referral whose package this person may download (a liaison of its agency).
        "package_referral": ReferralPackagePolicy.referral_for(user, report),
        # Referrals to agencies that take e-mail, and where each e-mail is (outputs).
        "email_options": email_options(report),
        "may_send_email": ReferralEmailPolicy.may_send(user),
        # Referrals to agencies reached by the CyberTipline-compatible API (outputs).
        "api_options": api_options(report),
        "may_submit_api": ReferralApiPolicy.may_submit(user),
        **_decision_context(user, report, case, forms),
        **case_forwarding(user, report),
        **notices_context(request, report),
        **_reply_context(report, forms),
    }
    return no_store(render(request, "console/case.html", context, status=status))


def _reply_context(report: Report, forms: Mapping[str, Form]) -> dict[str, Any]:
    """The reply template chooser beside the message form, and the texts for filling in place
    with JavaScript (without it, "Use template" re-renders the page with the text filled in)."""
    chooser = forms.get("reply") or ReplyTemplateForm(
        category=report.category,
        initial={"language": replies.reporter_language(report.language)},
    )
    texts: dict[str, dict[str, str]] = {}
    for language in replies.LANGUAGES:
        for reply in replies.for_category(report.category, language):
            texts.setdefault(reply.key, {})[language] = reply.body
    return {
        "reply_form": chooser,
        "reply_texts": texts,
        "reply_used": "reply" in forms,
    }


def _marks(case: casework.CaseFile) -> dict[str, list[Mark]]:
    """Where the report's text is highlighted: the rules' spans ("these words fired a rule") and
    the learned model's words ("these weighed most in its opinion"), each kind marked apart
    (``fields.highlight``) and explained in the triage panel's legend."""
    marks: dict[str, list[Mark]] = {}
    for reason in case.reasons:
        if reason.segment and reason.end > reason.start:
            kind = MODEL if reason.rule == MODEL_WORD else RULE
            marks.setdefault(reason.segment, []).append((reason.start, reason.end, kind))
    return marks


def _cluster_rows(case: casework.CaseFile) -> list[dict[str, Any]]:
    if case.cluster is None:
        return []
    return [
        {
            "id": entry.report_id,
            "created_at": entry.created_at,
            "label": categories.get(entry.category).label,
            "state": ReportState(entry.state).label,
            "this": entry.report_id == case.report.id,
        }
        for entry in case.cluster.timeline
    ]


def _classification_form(report: Report, case: casework.CaseFile) -> ClassificationForm:
    suggested = (
        {}
        if case.erased
        else classification_rules.suggestions(report.category, case.details, case.classification)
    )
    return ClassificationForm(
        category=report.category, initial=case.classification, suggested=suggested
    )


def _decision_context(
    user: StaffUser, report: Report, case: casework.CaseFile, forms: Mapping[str, Form]
) -> dict[str, Any]:
    """What the classification, decision, notes and related-report panels need."""
    state = ReportState(report.state)
    pending = next((d for d in case.decisions if d.status == DecisionStatus.PENDING), None)
    may_decide = state == ReportState.IN_REVIEW and ReportPolicy.may_decide(user, report)
    return {
        "classification_rows": classification_rows(case.classification, report.category),
        "classification_form": forms.get("classification")
        or (_classification_form(report, case) if may_decide else None),
        "decision_form": forms.get("decision") or (DecisionForm() if may_decide else None),
        # What a referral, notice or forward would still need, said before anyone tries one.
        "still_to_classify": [
            FIELD_LABELS[name]
            for name in classification_rules.missing_before_asserting(
                report.category, case.classification
            )
        ],
        "note_form": forms.get("note") or NoteForm(),
        "link_form": forms.get("link") or LinkForm(),
        "may_decide": may_decide,
        "may_annotate": ReportPolicy.may_annotate(user) and not case.erased,
        "pending": pending,
        "may_review": pending is not None and ReportPolicy.may_review(user, pending.proposed_by_id),
        "may_withdraw": pending is not None
        and (pending.proposed_by_id == user.pk or ReportPolicy.may_reopen(user)),
        "may_reopen": state in (ReportState.ACTIONED, ReportState.CLOSED)
        and ReportPolicy.may_reopen(user)
        and report.content_erased_at is None,
        "may_hold": ReportPolicy.may_set_legal_hold(user),
        "outcome": Outcome(report.outcome).label if report.outcome else "",
        "cluster_rows": _cluster_rows(case),
        "reasons": [
            {**vars(reason), "description": engine.describe(reason.rule)}
            for reason in case.reasons
            if reason.rule != MODEL_WORD
        ],
        "model_words": [reason.quote for reason in case.reasons if reason.rule == MODEL_WORD],
        # The legend names only the kinds of highlight the answers show (the thread's messages
        # are not highlighted).
        "marked_kinds": {
            kind
            for segment, marks in _marks(case).items()
            if not segment.startswith("message:")
            for _start, _end, kind in marks
        },
        "decision_rows": [decision_row(d) for d in case.decisions],
        "related": [
            {
                "id": link.id,
                "label": categories.get(link.category).label,
                "created_at": link.created_at,
            }
            for link in case.links
        ],
    }
