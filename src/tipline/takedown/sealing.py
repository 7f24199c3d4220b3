"""Tracked URLs sealed under their report's content key, and found by keyed digest."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tipline import crypto
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.states import KeyPurpose
from tipline.triage.identifiers import canonical_url

if TYPE_CHECKING:
    import uuid


def url_digest(url: str) -> str:
    """The keyed digest of ``url`` in its canonical spelling: the digest that links reports.

    Spellings of one address that ``canonical_url`` folds (scheme and host case, a default
    port, a leading ``www.``, the fragment, tracking parameters, escapes) give one digest, so a
    later report of the address finds its tracked row. The path keeps its case and its trailing
    slash: servers may answer ``/a``, ``/A`` and ``/a/`` with different pages. A URL the canonical
    form cannot read is digested as given.
    """
    return crypto.identifier_digest("url", canonical_url(url) or url)


def _context(report_id: uuid.UUID, digest: str) -> str:
    return crypto.context("tracked_url", report_id, digest[:32])


def seal_url(report_id: uuid.UUID, url: str) -> tuple[str, bytes]:
    """The digest and the sealed address of ``url`` for a row of report ``report_id``."""
    digest = url_digest(url)
    key = report_key(report_id, KeyPurpose.CONTENT)
    return digest, crypto.seal_text(key, url, context=_context(report_id, digest))


def open_url(report_id: uuid.UUID, digest: str, sealed: bytes) -> str:
    """A tracked URL's address ("" once blanked or its report's content key was destroyed)."""
    if not sealed or not digest:
        return ""
    try:
        key = report_key(report_id, KeyPurpose.CONTENT)
    except KeyDestroyed:
        return ""
    return crypto.open_text(key, sealed, context=_context(report_id, digest))
