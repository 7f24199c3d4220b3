"""Validation of uploaded files before they are sealed.

The content type is sniffed from the bytes and must be on a short allow-list; the filename and
the browser's claimed type are never trusted (the name is kept, sealed, only to show the reporter
and analyst what they sent). Images are opened with a pixel limit so a decompression bomb is
refused before it is decoded. A file that is also another format (a polyglot) is refused; how
it is found, and what is left alone, is in ``tipline.evidence.polyglot``.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from tipline.evidence.polyglot import Malformed, hidden_content

IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
ALLOWED_TYPES = IMAGE_TYPES | {"application/pdf", "text/plain"}
MAX_NAME_CHARS = 200


class UploadRejected(Exception):
    """A file that will not be stored; the message is safe to show to the reporter."""


@dataclass(frozen=True)
class ValidatedUpload:
    name: str
    content_type: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def clean_filename(name: str) -> str:
    """A display name: no path, no control characters, bounded length. Never used as a path."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:MAX_NAME_CHARS] or "file"


def sniff(data: bytes) -> str | None:
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return str(kind.mime)
    if _is_plain_text(data):
        # HTML, SVG and XML documents are not plain text to a browser, and a PDF reader opens
        # text that has a PDF header near its start; none of them is accepted as text.
        if _MARKUP_DOCUMENT.match(data):
            return "text/html"
        if _PDF_HEADER.search(data, 0, 1024):
            return "application/x-pdf-in-text"
        return "text/plain"
    return None


# What makes a browser sniff text as HTML (the WHATWG MIME-sniffing patterns: a comment, a
# doctype, a processing instruction such as <?xml, or one of its tag names), plus SVG, MathML
# and any namespaced root element (<svg:svg ...>), after an optional BOM and white space. An
# SVG that opens with a comment came in as text before these were added.
_MARKUP_DOCUMENT = re.compile(
    rb"(?i)\A(?:\xef\xbb\xbf)?[\t\n\f\r ]*<"
    rb"(?:[!?]|(?:html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|svg|math)"
    rb"[\t\n\f\r />]|[a-z][\w.-]*:[a-z])"
)
_PDF_HEADER = re.compile(rb"%PDF-")


# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; tab, CR and LF are allowed.
# One expression instead of a category look-up per character (a 4 MB log took two seconds).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _is_plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _CONTROL.search(text) is None


def validate_upload(name: str, data: bytes) -> ValidatedUpload:
    display = clean_filename(name)
    if not data:
        raise UploadRejected(_("“%(name)s” is empty.") % {"name": display})
    if len(data) > settings.TIPLINE_MAX_FILE_BYTES:
        raise UploadRejected(
            _("“%(name)s” is larger than %(limit)d MB.")
            % {"name": display, "limit": settings.TIPLINE_MAX_FILE_BYTES // (1024 * 1024)}
        )
    content_type = sniff(data)
    if content_type not in ALLOWED_TYPES:
        raise UploadRejected(
            _(
                "“%(name)s” is not a file type we accept. Send screenshots as JPEG, PNG, GIF or "
                "WebP, documents as PDF or plain text."
            )
            % {"name": display}
        )
    if content_type in IMAGE_TYPES:
        _check_image(display, data)
    if content_type != "text/plain" and _hidden_content(display, content_type, data):
        raise UploadRejected(
            _("“%(name)s” has another kind of file hidden inside it, so we cannot accept it.")
            % {"name": display}
        )
    return ValidatedUpload(
        name=display, content_type=content_type, data=data, sha256=hashlib.sha256(data).hexdigest()
    )


def _hidden_content(display: str, content_type: str, data: bytes) -> bool:
    try:
        return hidden_content(content_type, data) is not None
    except Malformed as exc:
        raise UploadRejected(
            _("“%(name)s” looks like an image but is damaged.") % {"name": display}
        ) from exc


def validate_uploads(files: Iterable[UploadedFile[Any]]) -> tuple[list[ValidatedUpload], list[str]]:
    """Validate every uploaded file; return the accepted ones and one message per refusal."""
    uploads: list[ValidatedUpload] = []
    errors: list[str] = []
    for upload in files:
        try:
            uploads.append(validate_upload(upload.name or "", upload.read()))
        except UploadRejected as exc:
            errors.append(str(exc))
    return uploads, errors


def _check_image(display: str, data: bytes) -> None:
    limit = settings.TIPLINE_MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > limit:
                    raise UploadRejected(
                        _("“%(name)s” has too many pixels to process safely.") % {"name": display}
                    )
                img.verify()
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRejected(
            _("“%(name)s” has too many pixels to process safely.") % {"name": display}
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UploadRejected(
            _("“%(name)s” looks like an image but is damaged.") % {"name": display}
        ) from exc
