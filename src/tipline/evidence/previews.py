"""Metadata-free previews of image evidence.

A preview is the image re-drawn from its pixels alone (EXIF orientation applied, then every
metadata block dropped, GPS included), shrunk to at most 1024 px and sealed like the original.
Analysts look at previews; the original bytes stay untouched for hashing and chain of custody.
"""

from __future__ import annotations

import io
import warnings

from django.conf import settings
from PIL import Image, ImageOps

PREVIEW_MAX_PX = 1024


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
    clean.save(out, format="PNG", optimize=False)
    return out.getvalue()
