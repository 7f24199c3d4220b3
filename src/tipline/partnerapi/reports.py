"""Partner reports: file a batch, read one back, add files. Writes are actions, reads selectors.

A batch is one transaction (one commit for up to 100 reports: the point of the bulk route), with
a savepoint per item so that one item's failure leaves the others filed. Items are filed in
reference order: two concurrent batches that share references then wait on each other in the
same order and cannot deadlock on the unique index. An item whose reference is already filed,
before or by a request racing this one, answers with the first report and files nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from tipline.audit.chain import record
from tipline.cases import actions as case_actions
from tipline.cases.models import Message, Report
from tipline.cases.states import Channel, MessageAuthor, ReportState, public_status
from tipline.evidence.validate import ValidatedUpload
from tipline.partnerapi import webhooks
from tipline.partnerapi.models import PartnerReport, WebhookEndpoint
from tipline.partners.models import ApiCredential

MAX_BATCH = 100
# The partner's own reference: printable, no spaces, so it can be logged and compared safely.
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}")


class PartnerReportNotFound(Exception):
    """No such report, or not this partner's: one error for both."""


@dataclass(frozen=True)
class PartnerItem:
    """One validated item of a batch (the API adapter validated it with the report form)."""

    reference: str
    category: str
    language: str
    details: dict[str, Any]
    contact: dict[str, str] | None = None
    country: str = ""


@dataclass(frozen=True)
class Filed:
    reference: str
    report_id: uuid.UUID | None
    created: bool
    error: str = ""


@dataclass
class _Batch:
    endpoint: WebhookEndpoint | None
    created: list[str] = field(default_factory=list)
    existing: int = 0


def partner_reports_file(
    *, credential: ApiCredential, items: Sequence[PartnerItem]
) -> dict[str, Filed]:
    """File each item not filed before; the answer per reference."""
    if len(items) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} reports a batch")
    if len({i.reference for i in items}) != len(items):
        raise ValueError("references in one batch must differ")
    results: dict[str, Filed] = {}
    batch = _Batch(endpoint=webhooks.endpoint_of(credential.pk))
    with transaction.atomic():
        known = _filed(credential, [i.reference for i in items])
        for item in sorted(items, key=lambda i: i.reference):
            if item.reference in known:
                results[item.reference] = Filed(item.reference, known[item.reference], False)
                batch.existing += 1
                continue
            results[item.reference] = _file_one(credential, item, batch)
        if batch.created:
            record(
                actor=f"credential:{credential.pk}",
                action="partner.reports",
                target_type="api_credential",
                target_id=credential.pk,
                details={"created": batch.created, "existing": batch.existing},
            )
    return results


def _file_one(credential: ApiCredential, item: PartnerItem, batch: _Batch) -> Filed:
    try:
        with transaction.atomic():
            created = case_actions.report_create(
                category=item.category,
                channel=Channel.PARTNER,
                language=item.language,
                details=item.details,
                contact=item.contact,
                country=item.country,
            )
            link = PartnerReport.objects.create(
                credential=credential, reference=item.reference, report_id=created.report.id
            )
            webhooks.status_queue(
                link=link, state=ReportState.NEW, outcome="", endpoint=batch.endpoint
            )
    except IntegrityError:
        # A concurrent request filed this reference first (the insert waited for it to
        # commit, then collided): answer with that report.
        first = _filed(credential, [item.reference]).get(item.reference)
        if first is None:
            raise
        batch.existing += 1
        return Filed(item.reference, first, False)
    except ValueError as refused:
        return Filed(item.reference, None, False, error=str(refused))
    batch.created.append(str(created.report.id))
    return Filed(item.reference, created.report.id, True)


def partner_report_link(
    *, credential: ApiCredential, reference: str, report_id: uuid.UUID
) -> PartnerReport:
    """Link a report the partner filed another way (``/ispws``) to its credential, so its status
    changes reach the partner's webhook like those of a bulk-API report ("received" queued now).
    Call inside the transaction that files the report."""
    with transaction.atomic():
        link = PartnerReport.objects.create(
            credential=credential, reference=reference, report_id=report_id
        )
        webhooks.status_queue(link=link, state=ReportState.NEW, outcome="")
    return link


def _filed(credential: ApiCredential, references: list[str]) -> dict[str, uuid.UUID]:
    rows = PartnerReport.objects.filter(credential=credential, reference__in=references)
    return dict(rows.values_list("reference", "report_id"))


# --- access and selectors ------------------------------------------------------------------------


def partner_report_for(*, credential: ApiCredential, report_id: object) -> PartnerReport:
    """The partner's own report with this id; anything else (missing, another partner's, not
    a UUID) is the same PartnerReportNotFound."""
    try:
        wanted = uuid.UUID(str(report_id))
    except ValueError:
        raise PartnerReportNotFound from None
    link = (
        PartnerReport.objects.select_related("report")
        .filter(report_id=wanted, credential=credential)
        .first()
    )
    if link is None:
        raise PartnerReportNotFound
    return link


@dataclass(frozen=True)
class PartnerStatus:
    id: uuid.UUID
    reference: str
    status: str
    outcome: str
    created_at: datetime
    updated_at: datetime


def partner_status(link: PartnerReport) -> PartnerStatus:
    """What a partner may know of its report: the coarse status and, once decided, the outcome.

    Never who handles it, notes, classification or anything analysts wrote.
    """
    report: Report = link.report
    decided = report.state in (ReportState.ACTIONED, ReportState.CLOSED)
    return PartnerStatus(
        id=report.id,
        reference=link.reference,
        status=public_status(report.state).value,
        outcome=report.outcome if decided else "",
        created_at=report.created_at,
        updated_at=report.updated_at,
    )


def partner_files_add(
    *, link: PartnerReport, uploads: Sequence[ValidatedUpload], submission_token: str | None
) -> Message:
    """Attach files to the partner's report, as a message from the reporter's side (so they
    are hashed, matched and shown like any follow-up upload)."""
    return case_actions.message_add(
        report=link.report,
        author=MessageAuthor.REPORTER,
        body="",
        uploads=uploads,
        submission_token=submission_token,
    )
