"""Every hash Tipline computes for a file: SHA-256, MD5 and SHA-1 of the bytes, and PDQ of images.

Why these: hash lists from NCMEC, the IWF and other hotlines are published as MD5, SHA-1 or
SHA-256 of the exact bytes, and as PDQ (Meta's perceptual hash) of the picture, which survives
re-encoding, resizing and small edits. Each file gets all of them once, at intake or from the CLI.

Why the image path is careful: the bytes come from the public. Decoding is limited to a few
formats Pillow decodes itself (never EPS, which would run Ghostscript); the pixel count from the
header is checked against `TIPLINE_MAX_IMAGE_PIXELS` (the same limit as upload validation) before
any pixel is allocated; truncated files are refused, never padded. A refusal is a value with a
reason, not an exception, and the cryptographic hashes are computed whatever happens to the image.

Why the pixels are prepared this way: PDQ is only comparable with other people's PDQ if the
picture is prepared as they prepare it. The image is turned upright (EXIF orientation, as a viewer
shows it), flattened to RGB (transparency on white), and shrunk proportionally so that neither
side exceeds 512 px with Pillow's `thumbnail` defaults (bicubic, reducing gap 2), as Meta's Python
reference does. With that, `pdqhash` reproduces the reference vectors bit for bit (tests/matching/
test_hashing.py); bilinear, box and nearest resampling do not, and skipping the shrink lands 4-12
bits away.

Video gets vPDQ (`matching.video`: frame hashes from a sandboxed child process) only when the
caller asks with ``vpdq=True``: decoding a video takes seconds of a core, which the CLI and the
worker's task can spend and a web request should not without deciding to.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import filetype
import numpy as np
import pdqhash
from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from tipline.matching.video import VideoFrame, VideoRefused, hash_video_bytes, hash_video_file

Kind = Literal["image", "video", "other"]

PDQ_MAX_SIDE = 512
# Formats Pillow decodes with its own or well-known libraries. Anything else that claims to be an
# image (HEIC, PSD, EPS, ...) is refused with a reason rather than handed to an obscure decoder.
# JPEG covers phones' multi-picture (MPO) files: Pillow's JPEG opener returns their first image.
DECODABLE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "AVIF")
_SNIFF_BYTES = 8192
_CHUNK_BYTES = 1 << 20
# High-bit-depth single-channel modes, scaled linearly to 8 bits (PDQ thresholds each DCT
# coefficient at the median, so a linear scale of the luminance does not change the hash).
_WIDE_GREY_FULL_SCALE = {"I;16": 65535, "I;16L": 65535, "I;16B": 65535, "I;16N": 65535}
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}


@dataclass(frozen=True)
class FileHashes:
    sha256: str
    md5: str
    sha1: str
    kind: Kind
    pdq: str | None = None  # 64 hex digits, first hash bit = most significant bit
    pdq_quality: int | None = None  # 0-100; Meta treats below 50 (or 80 for strict) as unreliable
    refused_reason: str | None = None  # why an image or video (or empty file) has no PDQ/vPDQ
    vpdq: tuple[VideoFrame, ...] | None = None  # video frames' PDQ, when asked for


class ImageRefused(Exception):
    """An image that will not be decoded; the message says why and is safe to show to staff."""


def hamming(a_hex: str, b_hex: str) -> int:
    """Bits that differ between two equal-length hex hashes (PDQ: 0 identical, <= 31 a match)."""
    if len(a_hex) != len(b_hex):
        raise ValueError("hashes of different lengths")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()


def hash_bytes(data: bytes, *, content_type: str | None = None, vpdq: bool = False) -> FileHashes:
    """All hashes of one file held in memory.

    `content_type` is what the caller already sniffed from the same bytes (intake does); without
    it the bytes are sniffed here. It only chooses the path; decoding is pixel-limited either way.
    With `vpdq`, a video's frames are hashed too (see the module docstring).
    """
    digests = _Digests()
    digests.update(data)
    hashes = _finish(digests, head=data[:_SNIFF_BYTES], body=[data], content_type=content_type)
    if vpdq and hashes.kind == "video" and hashes.refused_reason is None:
        return _with_vpdq(hashes, lambda: hash_video_bytes(data))
    return hashes


def hash_file(path: Path, *, vpdq: bool = False) -> FileHashes:
    """All hashes of a file on disk, read in chunks; only an image's bytes are kept in memory.

    With `vpdq`, a video's frames are hashed too, by a child process reading the same path.
    Raises OSError if the file cannot be read at all.
    """
    digests = _Digests()
    head = b""
    kind: Kind | None = None
    body: list[bytes] = []
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            digests.update(chunk)
            if kind is None:
                head = chunk[:_SNIFF_BYTES]
                kind = _kind_of(_sniff(head))
            if kind == "image":
                body.append(chunk)
    hashes = _finish(digests, head=head, body=body, content_type=None)
    if vpdq and hashes.kind == "video" and hashes.refused_reason is None:
        return _with_vpdq(hashes, lambda: hash_video_file(path))
    return hashes


def _with_vpdq(hashes: FileHashes, frames_of: Callable[[], tuple[VideoFrame, ...]]) -> FileHashes:
    try:
        return replace(hashes, vpdq=frames_of())
    except VideoRefused as refused:
        return replace(hashes, refused_reason=str(refused))


def _finish(
    digests: _Digests, *, head: bytes, body: Iterable[bytes], content_type: str | None
) -> FileHashes:
    base = FileHashes(
        sha256=digests.sha256.hexdigest(),
        md5=digests.md5.hexdigest(),
        sha1=digests.sha1.hexdigest(),
        kind="other",
    )
    if not head:
        return replace(base, refused_reason="empty file")
    kind = _kind_of(content_type or _sniff(head))
    if kind != "image":
        return replace(base, kind=kind)  # a video's vPDQ is added by the callers that ask
    try:
        rgb = decode_for_pdq(b"".join(body))
    except ImageRefused as refused:
        return replace(base, kind="image", refused_reason=str(refused))
    pdq, quality = pdq_of_rgb(rgb)
    return replace(base, kind="image", pdq=pdq, pdq_quality=quality)


def decode_for_pdq(data: bytes) -> np.ndarray:
    """The picture as PDQ expects it: upright, RGB, at most 512 px a side (H x W x 3 uint8)."""
    limit = settings.TIPLINE_MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data), formats=DECODABLE_FORMATS) as img:
            width, height = img.size
            if width * height > limit:
                raise ImageRefused(
                    f"image too large: {width}x{height} pixels is over the limit of {limit:,}"
                )
            if width < 1 or height < 1:
                raise ImageRefused("image has no pixels")
            img.seek(0)  # first frame of a GIF, WebP or TIFF
            img.load()
            upright = ImageOps.exif_transpose(img)
            rgb = _to_rgb(upright)
    except ImageRefused:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageRefused(f"image too large: over the limit of {limit:,} pixels") from exc
    except UnidentifiedImageError as exc:
        raise ImageRefused(
            "not an image format we decode (JPEG, PNG, GIF, WebP, TIFF, BMP or AVIF)"
        ) from exc
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError) as exc:
        # Pillow reports truncation as OSError, malformed headers as SyntaxError or ValueError,
        # and a few damaged structures as the others; none of the messages carry pixel data.
        raise ImageRefused(f"damaged or truncated image ({type(exc).__name__})") from exc
    rgb.thumbnail((PDQ_MAX_SIDE, PDQ_MAX_SIDE))  # Pillow's defaults: bicubic, reducing_gap=2.0
    return np.asarray(rgb)


def pdq_of_rgb(rgb: np.ndarray) -> tuple[str, int]:
    """PDQ hash (64 hex digits, first bit most significant, as Meta prints it) and quality."""
    bits, quality = pdqhash.compute(rgb)
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def _to_rgb(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in _WIDE_GREY_FULL_SCALE or mode in ("I", "F"):
        return _wide_grey_to_rgb(img)
    if mode == "P" and "transparency" in img.info:
        img, mode = img.convert("RGBA"), "RGBA"
    if mode in _ALPHA_MODES:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    try:
        return img.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV
    except ValueError as exc:
        raise ImageRefused(f"unsupported colour mode {mode}") from exc


def _wide_grey_to_rgb(img: Image.Image) -> Image.Image:
    """16-bit (or 32-bit integer / float) greyscale to 8 bits by a linear scale."""
    values = np.asarray(img, dtype=np.float64)
    full_scale = _WIDE_GREY_FULL_SCALE.get(img.mode)
    if full_scale is None:
        # Mode I and F carry no declared range: 16-bit PNGs open as I, so assume 16 bits when
        # values go past 8 bits, else treat them as 8-bit values.
        low = min(float(values.min()), 0.0)
        high = float(values.max())
        full_scale = 65535 if high > 255 else 255
        values = values - low
    grey = np.clip(np.rint(values * (255.0 / full_scale)), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def _sniff(head: bytes) -> str | None:
    guess = filetype.guess(head)
    return None if guess is None else str(guess.mime)


def _kind_of(content_type: str | None) -> Kind:
    if content_type is None:
        return "other"
    if content_type.startswith("image/"):
        return "image"
    if content_type.startswith("video/"):
        return "video"
    return "other"


class _Digests:
    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        # MD5 and SHA-1 identify files on published hash lists; they are never used for security.
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha1 = hashlib.sha1(usedforsecurity=False)

    def update(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self.md5.update(chunk)
        self.sha1.update(chunk)
