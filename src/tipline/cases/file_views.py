"""Staff reads of one evidence file: sanitised renditions, its text, and (for some) the original.

Every read decrypts, so every read is audited: the file is opened and the audit entry written in
one short transaction (if the entry cannot be written, nothing decrypted leaves), and rendering
happens after it, outside the transaction, so a slow renderer (up to its sandbox timeout) never
holds the database. What is recorded: ``file.preview`` (which page and size), ``file.text``,
``file.original`` (the download of the original bytes); never content.

Which view a file gets follows its sniffed content type (``evidence.validate``), never its name.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from tipline import crypto, storage
from tipline.audit.chain import record
from tipline.cases.models import EvidenceFile
from tipline.cases.policies import EvidenceFilePolicy, NotAllowed
from tipline.cases.sealing import report_key
from tipline.cases.states import KeyPurpose
from tipline.crypto.sealed import open_json
from tipline.evidence import renderers
from tipline.evidence.renderers import RenderFailed, TextPreview
from tipline.evidence.validate import IMAGE_TYPES
from tipline.matching.models import FileMatch

if TYPE_CHECKING:
    from tipline.staff.models import StaffUser

log = logging.getLogger(__name__)

IMAGE, PDF, TEXT, VIDEO, NONE = "image", "pdf", "text", "video", "none"


def preview_kind(content_type: str) -> str:
    """How the console shows a file of this (sniffed) type."""
    if content_type in IMAGE_TYPES:
        return IMAGE
    if content_type == "application/pdf":
        return PDF
    if content_type == "text/plain":
        return TEXT
    if content_type.startswith("video/"):
        # Intake accepts no video today; files added otherwise (API, imports) still get a view.
        return VIDEO
    return NONE


@dataclass(frozen=True)
class Original:
    data: bytes
    name: str
    sha256: str
    content_type: str  # as sniffed at intake


def _meta(evidence: EvidenceFile, key: bytes) -> dict[str, Any]:
    meta: dict[str, Any] = open_json(
        key, evidence.meta, context=crypto.context("file", evidence.id, "meta")
    )
    return meta


def _open(
    actor: StaffUser, evidence: EvidenceFile, *, action: str, details: dict[str, Any], field: str
) -> tuple[bytes, dict[str, Any]]:
    """Decrypt one sealed object of the file and audit it, in one transaction."""
    with transaction.atomic():
        key = report_key(evidence.report_id, KeyPurpose.CONTENT)
        meta = _meta(evidence, key)
        object_id = evidence.preview_object_id if field == "preview" else evidence.object_id
        data = crypto.open_sealed(
            key,
            storage.read_object(object_id),
            context=crypto.context("file", evidence.id, field),
        )
        record(
            actor=actor.username,
            action=action,
            target_type="file",
            target_id=evidence.id,
            details={"report": str(evidence.report_id), **details},
        )
    return data, meta


@dataclass(frozen=True)
class FileInfo:
    kind: str  # IMAGE, PDF, TEXT, VIDEO or NONE
    name: str  # the reporter's file name, cleaned at intake; shown escaped, never a path
    content_type: str
    size: int
    sha256: str


def file_info(evidence: EvidenceFile) -> FileInfo:
    """What the viewer shows about a file, from its sealed metadata (its content stays sealed).

    Not audited by itself: it opens the same metadata as the audited case view, and every view
    that calls it goes on to an audited read of the content.
    """
    meta = _meta(evidence, report_key(evidence.report_id, KeyPurpose.CONTENT))
    content_type = str(meta["content_type"])
    return FileInfo(
        kind=preview_kind(content_type),
        name=str(meta["name"]),
        content_type=content_type,
        size=int(meta["size"]),
        sha256=str(meta["sha256"]),
    )


def is_known(evidence: EvidenceFile) -> bool:
    """The file matched a hash bank: it is not shown at all until the analyst reveals it."""
    return FileMatch.objects.filter(evidence=evidence).exists()


def image_rendition(*, actor: StaffUser, evidence: EvidenceFile, size: int) -> bytes:
    """The image re-drawn at ``size`` px (0: full). Raises RenderFailed."""
    if size not in renderers.IMAGE_SIZES:
        raise RenderFailed("bad request")
    details = {"size": size or "full"}
    if size == renderers.IMAGE_SIZES[0] and evidence.preview_object_id:
        # The stored preview (made by the media step at this size) saves a decode.
        return _open(actor, evidence, action="file.preview", details=details, field="preview")[0]
    data, meta = _open(actor, evidence, action="file.preview", details=details, field="data")
    if preview_kind(str(meta["content_type"])) != IMAGE:
        raise RenderFailed("not an image")
    return renderers.redraw(data, max_px=size)


def pdf_page_count(*, actor: StaffUser, evidence: EvidenceFile) -> int:
    """Pages the viewer offers (at most renderers.MAX_PDF_PAGES). Raises RenderFailed."""
    data, meta = _open(
        actor, evidence, action="file.preview", details={"pages": True}, field="data"
    )
    if preview_kind(str(meta["content_type"])) != PDF:
        raise RenderFailed("not a PDF")
    return _logged(evidence.id, lambda: renderers.pdf_page_count(data))


def pdf_page(*, actor: StaffUser, evidence: EvidenceFile, page: int, size: int) -> bytes:
    """One page of a PDF as PNG. Raises RenderFailed."""
    if size not in renderers.PDF_SIZES or not 1 <= page <= renderers.MAX_PDF_PAGES:
        raise RenderFailed("bad request")
    data, meta = _open(
        actor, evidence, action="file.preview", details={"page": page, "size": size}, field="data"
    )
    if preview_kind(str(meta["content_type"])) != PDF:
        raise RenderFailed("not a PDF")
    return _logged(evidence.id, lambda: renderers.pdf_page(data, page=page, size=size))


def video_preview(*, actor: StaffUser, evidence: EvidenceFile) -> bytes:
    """A short, silent, scaled-down MP4 of a video. Raises RenderFailed."""
    data, meta = _open(
        actor, evidence, action="file.preview", details={"video": True}, field="data"
    )
    if preview_kind(str(meta["content_type"])) != VIDEO:
        raise RenderFailed("not a video")
    return _logged(evidence.id, lambda: renderers.video_preview(data))


def file_text(*, actor: StaffUser, evidence: EvidenceFile) -> TextPreview:
    """A text file's content, decoded and bounded, to be shown escaped. Raises RenderFailed."""
    data, meta = _open(actor, evidence, action="file.text", details={}, field="data")
    if preview_kind(str(meta["content_type"])) != TEXT:
        raise RenderFailed("not text")
    return renderers.text_preview(data)


def file_original(*, actor: StaffUser, evidence: EvidenceFile) -> Original:
    """The original bytes, for the roles that may export them; audited as ``file.original``."""
    if not EvidenceFilePolicy.may_download_original(actor):
        raise NotAllowed("originals are downloaded only by supervisors and administrators")
    data, meta = _open(actor, evidence, action="file.original", details={}, field="data")
    return Original(
        data=data,
        name=str(meta["name"]),
        sha256=str(meta["sha256"]),
        content_type=str(meta["content_type"]),
    )


def _logged[T](evidence_id: uuid.UUID, render: Callable[[], T]) -> T:
    try:
        return render()
    except RenderFailed as exc:
        # By id and reason only: never content, names or the renderer's messages.
        log.warning("render failed for file %s: %s", evidence_id, exc)
        raise
