"""Screenshots and photos (PNG, JPEG, WebP): one image item per file.

Opened with Pillow under the project's pixel limit (a decompression bomb is refused before it is
decoded), then fully decoded so that a truncated or corrupt file is refused rather than stored
as evidence nobody can open. The time comes from EXIF DateTimeOriginal when the camera wrote it
(naive: EXIF has no zone unless OffsetTimeOriginal is set, which is kept in meta).
"""

from __future__ import annotations

import io
import threading
import warnings as python_warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from PIL import Image, ImageFile, UnidentifiedImageError

from tipline.locker.parsers.common import clean_name
from tipline.locker.parsers.i18n import _
from tipline.locker.parsers.limits import max_image_pixels
from tipline.locker.types import Item, ParseError, ParseResult

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_OFFSET_TIME_ORIGINAL = 36881
_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


def is_image(data: bytes) -> bool:
    return (
        data.startswith(b"\x89PNG\r\n\x1a\n")
        or data.startswith(b"\xff\xd8\xff")
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
    )


_PNG_END = b"IEND\xaeB`\x82"
_STRICT = threading.Lock()


@contextmanager
def _strict_decoding() -> Iterator[None]:
    """Make Pillow raise on truncated data while we decode.

    WeasyPrint (the PDF export) sets the process-wide `ImageFile.LOAD_TRUNCATED_IMAGES = True`
    when it is imported, which would let a truncated screenshot "load" as a grey-padded image.
    Evidence that nobody can open in full must be refused, so the flag is cleared around our
    decode and restored after (a WeasyPrint render in another thread at that instant would see
    a truncated image refused, which it already handles by leaving the image out).
    """
    with _STRICT:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def parse_screenshot(data: bytes, filename: str = "") -> ParseResult:
    limit = max_image_pixels()
    if data.startswith(b"\x89PNG") and not data.endswith(_PNG_END):
        # Pillow decodes a PNG cut after its pixel data; the missing end still means a bad copy.
        raise ParseError(_("The image is damaged or truncated and cannot be read."))
    try:
        with _strict_decoding(), python_warnings.catch_warnings():
            python_warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as image:
                width, height = image.size
                if width * height > limit:
                    raise ParseError(_("The image has too many pixels to process safely."))
                image_format = image.format or ""
                image.load()
                # After load(): PNG keeps its eXIf chunk after the image data.
                exif = image.getexif()
    except ParseError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ParseError(_("The image has too many pixels to process safely.")) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, TypeError):
        raise ParseError(_("The image is damaged or truncated and cannot be read.")) from None
    meta = {"width": str(width), "height": str(height), "format": image_format}
    stamp = None
    try:
        details = exif.get_ifd(_EXIF_IFD)
    except (KeyError, ValueError, TypeError, OSError, SyntaxError):
        details = {}
    raw = details.get(_DATETIME_ORIGINAL)
    if isinstance(raw, str):
        meta["DateTimeOriginal"] = raw.strip("\x00 ")
        try:
            stamp = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        except ValueError:
            stamp = None
    offset = details.get(_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str):
        meta["OffsetTimeOriginal"] = offset.strip("\x00 ")
    extension = _FORMATS.get(image_format, "img")
    name = clean_name(filename) if filename else f"screenshot.{extension}"
    item = Item(
        "screenshot",
        "image",
        stamp,
        "",
        "",
        attachments=(name,),
        meta=meta,
    )
    return ParseResult("screenshot", [item], media={name: data})
