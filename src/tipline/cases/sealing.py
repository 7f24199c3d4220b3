"""Per-report keys: the bridge between case models and tipline.crypto.

Every sealed value names its context (record id and field), so a blob cannot be replayed into
another report or field. Keys are unwrapped per call and never cached beyond it.
"""

from __future__ import annotations

import uuid

from tipline import crypto
from tipline.cases.models import ReportKey
from tipline.cases.states import KeyPurpose
from tipline.crypto.box import wrapped_kek_id


class KeyDestroyed(Exception):
    """The report's data key was shredded: its sealed data no longer exists in readable form."""


def new_report_keys(report_id: uuid.UUID) -> tuple[bytes, bytes, list[ReportKey]]:
    """Fresh content and contact keys plus the unsaved rows that store them wrapped."""
    content, contact = crypto.new_data_key(), crypto.new_data_key()
    rows = []
    for purpose, key in ((KeyPurpose.CONTENT, content), (KeyPurpose.CONTACT, contact)):
        wrapped = crypto.wrap_data_key(key, context=crypto.context("report", report_id, purpose))
        rows.append(
            ReportKey(
                report_id=report_id,
                purpose=purpose,
                wrapped=wrapped,
                kek_id=wrapped_kek_id(wrapped),
            )
        )
    return content, contact, rows


def report_key(report_id: uuid.UUID, purpose: KeyPurpose) -> bytes:
    row = ReportKey.objects.filter(report_id=report_id, purpose=purpose).first()
    if row is None:
        raise KeyDestroyed(f"{purpose} key of report {report_id} was destroyed")
    return crypto.unwrap_data_key(
        bytes(row.wrapped), context=crypto.context("report", report_id, purpose)
    )
