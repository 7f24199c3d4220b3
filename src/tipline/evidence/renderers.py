"""Server-rendered, sanitised views of evidence: PDF pages, text, image renditions.

Why server-rendered: the analyst's browser never loads an original file. A PDF reader in the
browser would run the file's JavaScript, fetch its links and parse it with a large attack
surface; an HTML or SVG file read as a page would run its script. Instead:

* a PDF page is rasterised by poppler's ``pdftoppm`` in ``evidence.sandbox`` (no network, no
  file system, resource limits, a timeout), its longest side scaled to a fixed number of pixels
  whatever the page size claims, and the PNG it prints is decoded and re-drawn by Pillow, so the
  browser gets plain pixels. Poppler does not run PDF JavaScript.
* text is decoded with the encoding detected by charset-normalizer, bounded in length, control
  characters removed, and left to the template's escaping: markup is shown as the characters
  it is made of, never rendered.
* an image is re-drawn from its pixels (``evidence.previews``) at the requested size, up to its
  full resolution, under the pixel limit intake already enforced.

Nothing here caches: each view renders from the decrypted bytes held in memory and forgets them.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass

from charset_normalizer import CharsetMatch, from_bytes
from django.conf import settings
from PIL import Image, ImageOps

from tipline.evidence import sandbox

# Longest side, in pixels, of the renditions a viewer may ask for. ``0`` means full resolution
# (images only: a PDF page has no natural size; its largest rendition is the last number).
IMAGE_SIZES = (1024, 2048, 0)
PDF_SIZES = (1024, 1600, 2400)
# Pages beyond this are not offered: a PDF claiming a million pages is read in its first pages.
MAX_PDF_PAGES = 500
MAX_TEXT_BYTES = 256 * 1024

_PDFTOPPM = "/usr/bin/pdftoppm"
_PDFINFO = "/usr/bin/pdfinfo"
# Used where the settings module does not set them (settings.py reads them from the environment):
# a page that takes longer than this to draw is given up on and the viewer says so.
DEFAULTS: dict[str, int | float] = {
    "TIPLINE_RENDER_TIMEOUT_SECONDS": 20.0,
    "TIPLINE_RENDER_MEMORY_BYTES": 1536 << 20,
}


def _limits() -> sandbox.Limits:
    timeout = float(
        getattr(settings, "TIPLINE_RENDER_TIMEOUT_SECONDS", None)
        or DEFAULTS["TIPLINE_RENDER_TIMEOUT_SECONDS"]
    )
    memory = int(
        getattr(settings, "TIPLINE_RENDER_MEMORY_BYTES", None)
        or DEFAULTS["TIPLINE_RENDER_MEMORY_BYTES"]
    )
    return sandbox.Limits(
        timeout_seconds=timeout, cpu_seconds=max(1, math.ceil(timeout)), memory_bytes=memory
    )


class RenderFailed(Exception):
    """The file could not be rendered; the reason is for logs (no content in it)."""


# --- PDF -------------------------------------------------------------------------------------


def pdf_page_count(data: bytes) -> int:
    """How many pages the PDF has (at most MAX_PDF_PAGES). Raises RenderFailed."""
    try:
        out = sandbox.run([_PDFINFO, "-"], stdin=data, limits=_limits())
    except sandbox.SandboxFailed as exc:
        raise RenderFailed(exc.reason) from None
    found = re.search(rb"^Pages:\s+(\d{1,12})\s*$", out, re.MULTILINE)
    if found is None or int(found.group(1)) < 1:
        raise RenderFailed("no pages")
    return min(int(found.group(1)), MAX_PDF_PAGES)


def pdf_page(data: bytes, *, page: int, size: int) -> bytes:
    """Page ``page`` (from 1) as a PNG whose longest side is ``size`` px. Raises RenderFailed."""
    if size not in PDF_SIZES or not 1 <= page <= MAX_PDF_PAGES:
        raise RenderFailed("bad request")
    argv = [
        # Raw PPM out (no compression inside the sandbox, none to undo here): the PNG is made
        # once, by redraw(). 2400 x 2400 px is 17 MB of PPM, under the output limit.
        _PDFTOPPM, "-f", str(page), "-l", str(page), "-singlefile",
        "-scale-to", str(size), "-",
    ]  # fmt: skip
    try:
        png = sandbox.run(argv, stdin=data, limits=_limits())
    except sandbox.SandboxFailed as exc:
        raise RenderFailed(exc.reason) from None
    if not png:
        raise RenderFailed("no output")  # a page number past the end prints nothing
    return redraw(png, max_px=size)


# --- video -----------------------------------------------------------------------------------

# The preview is a short, small, silent H.264 clip: enough to see what a video shows, light to
# make (x264's fastest preset: about half a CPU second for 30 s here) and to watch.
VIDEO_MAX_SECONDS = 30
VIDEO_MAX_PX = 480
_FFMPEG = "/usr/bin/ffmpeg"
# Demuxers FFmpeg may pick (no playlists, concatenation or image sequences that name other files).
_VIDEO_DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,asf,mpeg,mpegts,ogg"


def video_argv() -> list[str]:
    """FFmpeg's arguments for a preview; ``{0}`` is the input (a memfd's /dev/fd path)."""
    return [
        _FFMPEG, "-nostdin", "-hide_banner", "-v", "error",
        "-protocol_whitelist", "file", "-format_whitelist", _VIDEO_DEMUXERS,
        "-max_pixels", str(settings.TIPLINE_MAX_IMAGE_PIXELS),
        "-i", "{0}",
        "-t", str(VIDEO_MAX_SECONDS), "-map", "0:v:0", "-an", "-sn", "-dn",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-vf", f"scale='min({VIDEO_MAX_PX},iw)':-2,fps=15,format=yuv420p",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-threads", "1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact",
        "-movflags", "frag_keyframe+empty_moov+default_base_moof",
        "-f", "mp4", "pipe:1",
    ]  # fmt: skip


def video_preview(data: bytes) -> bytes:
    """A silent, metadata-free H.264 MP4 of the first seconds, scaled down. Raises RenderFailed.

    No audio, subtitle or data stream is copied (``-an -sn -dn``), nor any metadata or chapter;
    the result is fragmented MP4 so it can be written to a pipe and played as it arrives.
    """
    argv = video_argv()
    limits = _limits()
    # Decoding a video takes longer than drawing a page: three times the page's time limit.
    limits = sandbox.Limits(
        timeout_seconds=limits.timeout_seconds * 3,
        cpu_seconds=limits.cpu_seconds * 3,
        memory_bytes=limits.memory_bytes,
    )
    try:
        out = sandbox.run(argv, files=(data,), limits=limits)
    except sandbox.SandboxFailed as exc:
        raise RenderFailed(exc.reason) from None
    if out[4:8] != b"ftyp":
        raise RenderFailed("no video")
    return out


# --- text ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextPreview:
    text: str
    encoding: str  # as charset-normalizer names it ("utf_8", "cp1252", "utf_16" …)
    truncated: bool  # only the first MAX_TEXT_BYTES bytes were read
    line_count: int


# Control characters other than tab and line breaks, and lone surrogates: shown as U+FFFD.
_UNSHOWABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)


# When several encodings read the bytes equally well (short Western text is as plausible in
# cp1250 as in cp1252), the one most used for the messages a hotline receives wins.
_PREFERRED = ("utf_8", "ascii", "cp1252", "iso8859_1", "cp1251", "utf_16", "shift_jis", "gb18030")


def _detect(head: bytes) -> CharsetMatch | None:
    matches = from_bytes(head)
    best = matches.best()
    if best is None:
        return None
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    for name in _PREFERRED:
        for match in tied:
            if match.encoding == name:
                return match
    return best


def text_preview(data: bytes) -> TextPreview:
    """The file's text, decoded with its detected encoding, ready to be shown escaped."""
    head = data[:MAX_TEXT_BYTES]
    best = _detect(head)
    if best is None:
        text, encoding = head.decode("utf-8", errors="replace"), "utf_8"
    else:
        text, encoding = str(best), str(best.encoding)
    # Bidirectional overrides are dropped too: they can make a URL read as another one.
    text = _UNSHOWABLE.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))
    return TextPreview(
        text=text,
        encoding=encoding,
        truncated=len(data) > MAX_TEXT_BYTES,
        line_count=text.count("\n") + (0 if text.endswith("\n") or not text else 1),
    )


# --- images ----------------------------------------------------------------------------------


def redraw(data: bytes, *, max_px: int) -> bytes:
    """The image's pixels alone as PNG, longest side at most ``max_px`` (0: full size).

    EXIF orientation is applied, then a fresh image is built from the pixel data, so no EXIF,
    XMP, ICC or text chunk survives. Raises RenderFailed for an image that cannot be decoded or
    is over the pixel limit.
    """
    Image.MAX_IMAGE_PIXELS = settings.TIPLINE_MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                img.seek(0)
                upright = ImageOps.exif_transpose(img)
                rgb = upright.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise RenderFailed(type(exc).__name__) from None
    except Image.DecompressionBombWarning:
        raise RenderFailed("DecompressionBomb") from None
    if max_px:
        rgb.thumbnail((max_px, max_px))
    clean = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    out = io.BytesIO()
    # Level 1: a rendition is sent once and forgotten; speed matters more than bytes.
    clean.save(out, format="PNG", optimize=False, compress_level=1)
    return out.getvalue()
