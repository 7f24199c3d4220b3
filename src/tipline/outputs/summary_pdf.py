"""The referral's human-readable summary: a PDF rendered with WeasyPrint, fetching nothing.

It quotes the reporter, so it travels only encrypted to the agency (``summary.pdf.age``).
Like the locker's PDF (``locker/report_pdf.py``) the stylesheet is inline, the URL fetcher refuses
every URL, and all text is escaped by the template, so a URL or markup in a report can neither
reach the network nor the server's files.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

TEMPLATE = "outputs/summary.html"


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]  # untyped

    class _NoFetch(URLFetcher):  # type: ignore[misc]  # URLFetcher is untyped (Any)
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"the referral summary fetches nothing (asked for {url[:80]!r})")

    return _NoFetch()


def _flat(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(f"{k}: {_flat(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def render(context: dict[str, Any]) -> bytes:
    """``context``: doc (report.json), content (content.json) and custody words."""
    # Imported here, not at module level: WeasyPrint takes a while to load and only this path
    # needs it. Importing it sets Pillow's LOAD_TRUNCATED_IMAGES, which the rest of the process
    # must not inherit (see locker/report_pdf.py), so the flag is put back at once.
    import weasyprint  # type: ignore[import-untyped]  # ships no type hints
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    content = context["content"]
    page = {
        "doc": context["doc"],
        "answers": [
            (name.replace("_", " "), _flat(value))
            for name, value in content["answers"].items()
            if value not in ("", None, [], {})
        ],
        "messages": content["messages"],
        "evidence": content["evidence"],
        "custody": context["custody"],
    }
    html = render_to_string(TEMPLATE, page)
    pdf: bytes = weasyprint.HTML(string=html, base_url=None, url_fetcher=_fetcher()).write_pdf()
    return pdf
