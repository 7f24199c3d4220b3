"""Metadata-free previews of image evidence.

A preview is the image re-drawn from its pixels alone (EXIF orientation applied, then every
metadata block dropped, GPS included), shrunk to at most 1024 px and sealed like the original.
Analysts look at previews; the original bytes stay untouched for hashing and chain of custody.

Previews are lossy WebP (quality 85): against the lossless PNG they were until 2026-12, a
phone photo's preview is about an eighth of the bytes and half the encoding CPU, and previews
were three quarters of the evidence store and of the media worker's time per photo
(docs/BENCHMARKS.md, "What a report costs"). A preview is for looking, not evidence: the
original is what is hashed, matched and handed over. Previews made before then are PNG, so
whoever serves one asks ``media_type`` what it is.
"""

from __future__ import annotations

import io
import warnings

from django.conf import settings
from PIL import Image, ImageOps

PREVIEW_MAX_PX = 1024
PREVIEW_QUALITY = 85


def make_preview(data: bytes) -> bytes:
    Image.MAX_IMAGE_PIXELS = settings.TIPLINE_MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as img:
            img.seek(0)
            upright = ImageOps.exif_transpose(img)
            rgb = upright.convert("RGB")
    rgb.thumbnail((PREVIEW_MAX_PX, PREVIEW_MAX_PX))
    # A fresh image built from pixel data carries no EXIF, XMP, ICC or text chunks.
    clean = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    out = io.BytesIO()
    clean.save(out, format="WEBP", quality=PREVIEW_QUALITY)
    return out.getvalue()


def media_type(data: bytes) -> str:
    """What a stored preview or a rendition is: WebP (RIFF....WEBP), else PNG."""
    return "image/webp" if data[:4] == b"RIFF" and data[8:12] == b"WEBP" else "image/png"
