"""Validation of uploaded files before they are sealed.

The content type is sniffed from the bytes and must be on a short allow-list; the filename and
the browser's claimed type are never trusted (the name is kept, sealed, only to show the reporter
and analyst what they sent). Images are opened with a pixel limit so a decompression bomb is
refused before it is decoded.
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
        # HTML, SVG and XML documents are not plain text to a browser; they are not accepted.
        if _MARKUP_DOCUMENT.match(data):
            return "text/html"
        return "text/plain"
    return None


_MARKUP_DOCUMENT = re.compile(
    rb"(?i)\A(?:\xef\xbb\xbf)?\s*<(?:!doctype|html|svg|\?xml|script|body|head)"
)


def _is_plain_text(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\r\n\t" for ch in text)


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
    if content_type != "text/plain" and _looks_like_polyglot(content_type, data):
        raise UploadRejected(
            _("“%(name)s” has another kind of file hidden inside it, so we cannot accept it.")
            % {"name": display}
        )
    return ValidatedUpload(
        name=display, content_type=content_type, data=data, sha256=hashlib.sha256(data).hexdigest()
    )


# Markup that a browser would run if the file were ever served as HTML; 7+ byte patterns, so a
# chance match inside compressed image data is vanishingly unlikely.
_ACTIVE_MARKUP = re.compile(rb"(?i)<(?:script|html|svg|iframe|object|embed)[\s>/]")
_ZIP_LOCAL_HEADER = b"PK\x03\x04"


def _looks_like_polyglot(content_type: str, data: bytes) -> bool:
    """A file that is also another format: HTML/SVG markup, or an archive appended to an image.

    Phones append data after a JPEG's end marker (motion photos), so only an archive or markup
    there is refused; a PNG must end at its IEND chunk.
    """
    if _ACTIVE_MARKUP.search(data):
        return True
    if content_type == "image/png":
        end = data.rfind(b"IEND")
        return end == -1 or len(data) > end + 8
    if content_type in ("image/jpeg", "image/gif", "image/webp"):
        return _ZIP_LOCAL_HEADER in data
    return False


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
