"""Console views of one evidence file: renditions, the file viewer, reveal, and the original.

The browser never loads an original: it gets PNG renditions re-drawn on the server (images, PDF
pages rasterised in a sandbox) and text as escaped characters (``tipline.cases.file_views``).
Every rendition starts blurred and grey; revealing is per file and per page view, recorded.

The viewer embeds its one rendition as a ``data:`` image, so the page itself knows whether it
could be rendered (and says so) and the rendition has no URL of its own to be cached or shared;
its CSP allows ``data:`` images and same-origin media (the video preview, a silent H.264 clip
transcoded in the sandbox when the analyst presses play) and nothing more than the console's.

The original is downloaded only by the roles ``EvidenceFilePolicy.may_download_original``
names, by POST, audited; everyone else gets the same 404 as for a missing file. It is sent as an
attachment with a neutral type, ``nosniff`` and a sandboxing CSP, so even a browser that tried
could not render it as a page of this site.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any, cast

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_POST

from tipline.cases import casework, file_views
from tipline.cases.access import ReportNotFound, evidence_for_staff
from tipline.cases.models import EvidenceFile
from tipline.cases.policies import EvidenceFilePolicy, NotAllowed
from tipline.cases.sealing import KeyDestroyed
from tipline.console.case_page import case_page
from tipline.console.shared import no_store, not_found, staff_of
from tipline.evidence import renderers
from tipline.evidence.previews import media_type
from tipline.evidence.renderers import RenderFailed

_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "text/plain": "txt",
}


class RenditionForm(forms.Form):
    """Which page and size of a file to show. Anything else is a 404, not an error page."""

    page = forms.IntegerField(required=False, min_value=1, max_value=renderers.MAX_PDF_PAGES)
    size = forms.IntegerField(required=False, min_value=0)

    def page_or_first(self) -> int:
        page: int | None = self.cleaned_data["page"]
        return page or 1


def _size(kind: str, requested: int | None) -> int | None:
    """The requested size if the kind offers it; the smallest when none was asked for."""
    sizes = renderers.PDF_SIZES if kind == file_views.PDF else renderers.IMAGE_SIZES
    if requested is None:
        return sizes[0]
    return requested if requested in sizes else None


def _image(data: bytes) -> HttpResponse:
    kind = media_type(data)
    response = HttpResponse(data, content_type=kind)
    response["Content-Disposition"] = f'inline; filename="preview.{kind.removeprefix("image/")}"'
    response["X-Content-Type-Options"] = "nosniff"
    return no_store(response)


@require_GET
def file_preview(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    """A rendition (an image at a size, a PDF page at a size), for the case page's cards: the
    stored WebP preview at the smallest image size, PNG otherwise."""
    user = staff_of(request)
    form = RenditionForm(request.GET)
    try:
        evidence = evidence_for_staff(user, file_id)
        kind = file_views.file_info(evidence).kind
    except (ReportNotFound, KeyDestroyed):
        return not_found(request)
    size = _size(kind, form.cleaned_data["size"]) if form.is_valid() else None
    if size is None:
        return not_found(request)
    try:
        if kind == file_views.IMAGE:
            return _image(file_views.image_rendition(actor=user, evidence=evidence, size=size))
        if kind == file_views.PDF:
            page = form.page_or_first()
            return _image(file_views.pdf_page(actor=user, evidence=evidence, page=page, size=size))
    except RenderFailed:
        # The card's alt text says the file could not be rendered; the viewer says it in words.
        return not_found(request)
    return not_found(request)


@require_GET
def file_video(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    """The viewer's video: transcoded when the analyst presses play (``preload="none"``)."""
    user = staff_of(request)
    try:
        evidence = evidence_for_staff(user, file_id)
        data = file_views.video_preview(actor=user, evidence=evidence)
    except (ReportNotFound, KeyDestroyed, RenderFailed):
        return not_found(request)
    response = HttpResponse(data, content_type="video/mp4")
    response["Content-Disposition"] = 'inline; filename="preview.mp4"'
    response["X-Content-Type-Options"] = "nosniff"
    return no_store(response)


@require_GET
def file_view(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    """The file viewer, blurred: a PDF page or an image at a zoom level, or a text file."""
    return _viewer(request, file_id, form=RenditionForm(request.GET), revealed=False)


@require_POST
def file_reveal(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    """Lift the blur on one file for this page view (recorded): in the viewer or the case page."""
    user = staff_of(request)
    try:
        evidence = evidence_for_staff(user, file_id)
    except ReportNotFound:
        return not_found(request)
    revealed = casework.file_reveal(actor=user, evidence=evidence)
    if request.POST.get("in") == "viewer":
        return _viewer(request, file_id, form=RenditionForm(request.POST), revealed=True)
    return case_page(request, evidence.report, revealed={revealed})


@require_POST
def file_original(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    """The original bytes as an attachment; for anyone not allowed, the 404 of a missing file."""
    user = staff_of(request)
    try:
        evidence = evidence_for_staff(user, file_id)
        original = file_views.file_original(actor=user, evidence=evidence)
    except (ReportNotFound, NotAllowed, KeyDestroyed):
        return not_found(request)
    extension = _EXTENSIONS.get(original.content_type, "bin")
    # A neutral name (no reporter-chosen characters in a header) that still ties the download
    # to its hash in the chain of custody.
    filename = f"evidence-{original.sha256[:16]}.{extension}"
    response = HttpResponse(original.data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return no_store(response)


# The console's CSP, plus data: images for the viewer's one embedded rendition.
_CONSOLE_CSP = cast(dict[str, list[str]], settings.SECURE_CSP)
_VIEWER_CSP = {
    **_CONSOLE_CSP,
    "img-src": [*_CONSOLE_CSP["img-src"], "data:"],
    "media-src": ["'self'"],  # the video preview
}


@csp_override(_VIEWER_CSP)
def _viewer(
    request: HttpRequest, file_id: uuid.UUID, *, form: RenditionForm, revealed: bool
) -> HttpResponse:
    user = staff_of(request)
    try:
        evidence = evidence_for_staff(user, file_id)
        info = file_views.file_info(evidence)
    except (ReportNotFound, KeyDestroyed):
        return not_found(request)
    kind = info.kind
    size = _size(kind, form.cleaned_data["size"]) if form.is_valid() else None
    if size is None:
        return not_found(request)
    page = form.page_or_first()
    context: dict[str, Any] = {
        "evidence": evidence,
        "file": info,
        "report": evidence.report,
        "kind": kind,
        "revealed": revealed,
        "size": size,
        "page": page,
        "failed": False,
        # Known material is not drawn at all, not even blurred, until revealed (as on the case).
        "withheld": not revealed and file_views.is_known(evidence),
        "may_download_original": EvidenceFilePolicy.may_download_original(user),
    }
    try:
        if not context["withheld"]:
            context.update(_rendition(user, evidence, kind=kind, page=page, size=size))
    except RenderFailed:
        context["failed"] = True
    return no_store(render(request, "console/file.html", context))


def _rendition(
    user: Any, evidence: EvidenceFile, *, kind: str, page: int, size: int
) -> dict[str, Any]:
    if kind == file_views.TEXT:
        return {"text": file_views.file_text(actor=user, evidence=evidence)}
    if kind == file_views.PDF:
        pages = file_views.pdf_page_count(actor=user, evidence=evidence)
        page = min(page, pages)
        png = file_views.pdf_page(actor=user, evidence=evidence, page=page, size=size)
        return {
            "pages": pages,
            "page": page,
            "sizes": renderers.PDF_SIZES,
            "image": _data_uri(png),
            "previous_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if page < pages else None,
        }
    if kind == file_views.IMAGE:
        png = file_views.image_rendition(actor=user, evidence=evidence, size=size)
        return {"sizes": renderers.IMAGE_SIZES, "image": _data_uri(png)}
    if kind == file_views.VIDEO:
        # Transcoded only when played: the page itself decrypts nothing.
        return {"video": True, "video_seconds": renderers.VIDEO_MAX_SECONDS}
    raise RenderFailed("no viewer for this type")


def _data_uri(image: bytes) -> str:
    return f"data:{media_type(image)};base64," + base64.b64encode(image).decode("ascii")
