"""Validation of uploaded files before they are sealed.

The content type is sniffed from the bytes and must be on a short allow-list; the filename and
the browser's claimed type are never trusted (the name is kept, sealed, only to show the reporter
and analyst what they sent). Images are opened with a pixel limit so a decompression bomb is
refused before it is decoded.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import warnings
from dataclasses import dataclass

import filetype
from django.conf import settings
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
        return "text/plain"
    return None


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
    return ValidatedUpload(
        name=display, content_type=content_type, data=data, sha256=hashlib.sha256(data).hexdigest()
    )


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
