"""Export views: the court-ready PDF and the ZIP of originals, as attachments.

Both are answers to a POST carrying the session token, never stored on the server, and marked
`no-store` so no browser or proxy cache keeps a copy.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language

from tipline.locker import selectors
from tipline.locker.views import locker_post, session_or_page


def _attachment(data: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _stamp() -> str:
    return timezone.now().strftime("%Y-%m-%d")


@locker_post
def export_pdf(request: HttpRequest) -> HttpResponse:
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    from tipline.locker.report_pdf import build_pdf

    snapshot = selectors.snapshot(opened)
    pdf = build_pdf(snapshot, generated_at=timezone.now(), language=get_language() or "en")
    return _attachment(pdf, content_type="application/pdf", filename=f"evidence-log-{_stamp()}.pdf")


@locker_post
def export_zip(request: HttpRequest) -> HttpResponse:
    opened = session_or_page(request)
    if isinstance(opened, HttpResponse):
        return opened
    from tipline.locker.bundle import build_bundle
    from tipline.locker.report_pdf import build_pdf

    snapshot = selectors.snapshot(opened, with_originals=True)
    pdf = build_pdf(snapshot, generated_at=timezone.now(), language=get_language() or "en")
    bundle = build_bundle(snapshot, pdf=pdf)
    return _attachment(
        bundle, content_type="application/zip", filename=f"evidence-log-{_stamp()}.zip"
    )
