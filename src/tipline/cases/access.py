"""Access functions: the only way a user-supplied identifier becomes a report or a file.

For reporters the identifier is the receipt. A missing report, a malformed receipt and a wrong
receipt all raise the same ``ReportNotFound`` after the same work (digest, one counter update and
one indexed query), so neither the answer nor its timing tells them apart. Failures are counted
per minute in the receipt's bucket (``tipline.throttle``: the receipt's keyed digest picks one
of ``TIPLINE_RECEIPT_BUCKETS``; malformed input has a bucket of its own). Past the bucket's
budget every look-up in it is refused for the rest of the minute, right or wrong, before the
database is asked, so the throttle cannot be used as an oracle; a guesser who does not know a
receipt cannot aim at its bucket, so cannot shut its reporter out. No client address is involved.

For staff the identifier is a UUID from a console URL. Whether it is malformed, names nothing, or
names a report the person's role may not open (``tipline.cases.policies``), the answer is the
same ``ReportNotFound``: a guessed or leaked id tells a liaison or an auditor nothing.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings

from tipline import crypto
from tipline.cases import receipts
from tipline.cases.models import EvidenceFile, ReceiptThrottle, Report
from tipline.cases.policies import EvidenceFilePolicy, ReportPolicy
from tipline.throttle import Throttled

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

# Digest of a receipt no generator can produce, so malformed input costs the same as a guess.
_IMPOSSIBLE = "!" * receipts.SYMBOLS


class ReportNotFound(Exception):
    """No report for this identifier, or not one this caller may see. Deliberately one error."""


class TooManyAttempts(Exception):
    """This receipt's bucket has had its failed look-ups for the minute; try again in a minute."""


def report_by_receipt(receipt: str) -> Report:
    normalised = receipts.normalise(receipt)
    digest = crypto.receipt_digest(normalised or _IMPOSSIBLE)
    buckets = int(settings.TIPLINE_RECEIPT_BUCKETS)
    # The digest is a keyed hash, so its bits pick the bucket; no real receipt shares the
    # malformed bucket, so a flood of junk cannot touch any reporter's.
    bucket = int(digest[:16], 16) % buckets if normalised is not None else buckets
    try:
        with ReceiptThrottle.attempt(
            bucket=bucket, budget=settings.TIPLINE_RECEIPT_FAILURES_PER_MINUTE
        ):
            report = Report.objects.filter(receipt_digest=digest).first()
            if report is None or normalised is None:
                raise ReportNotFound
    except Throttled:
        raise TooManyAttempts from None
    return report


def _uuid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ReportNotFound from exc


def report_for_staff(user: StaffUser, report_id: object) -> Report:
    """The report ``report_id`` names, if ``user`` may open it; otherwise ReportNotFound."""
    reports = ReportPolicy.visible(user).select_related("assigned_to")
    report = reports.filter(pk=_uuid(report_id)).first()
    if report is None:
        raise ReportNotFound
    return report


def evidence_for_staff(user: StaffUser, file_id: object) -> EvidenceFile:
    """The evidence file ``file_id`` names, if ``user`` may open its report; else ReportNotFound."""
    evidence = (
        EvidenceFilePolicy.visible(user).select_related("report").filter(pk=_uuid(file_id)).first()
    )
    if evidence is None:
        raise ReportNotFound
    return evidence
