"""Finding a second file inside an accepted one (polyglots).

A polyglot is valid as two formats at once: a PNG that ``unzip`` lists, a JPEG whose comment a
browser would run as a page. No route serves an original upload (previews are re-drawn from
pixels; ``tests/evidence/test_originals_never_inline.py``), so such a file cannot attack the
console. It is refused anyway because originals leave the console's care (the locker's ZIP
export, and any package that hands evidence on) and are opened by tools we do not control, and
because a reporter's screenshot never needs a hidden archive or a script.

Three checks, each linear in the file's size (a regular expression or ``bytes.find`` over the
bytes, and one walk over the format's blocks):

1. The whole file, every byte: an archive a reader would open (a ZIP end record whose central
   directory is where it says, the way zip readers look; a plausible ZIP local-file header;
   RAR and 7z signatures, which their readers search for), a PDF header inside an image, and
   markup that runs script when parsed as HTML: the elements that run it by themselves
   (``<script``, ``<iframe``, ``<object``, ``<embed``, ``<applet``, ``<frameset``, ``<html``)
   or a known event-handler attribute (``onerror=``, ``onload=`` ...) after an attribute
   separator, which catches ``<img onerror>`` and ``<body onload>`` whatever quoting tricks
   surround them. Every pattern is six bytes or more, or checked field by field, so a chance
   match inside compressed pixels is below one in 10^9 per megabyte: ordinary photos pass.
2. Text that metadata viewers show -- PNG ``tEXt``/``zTXt``/``iTXt`` (decompressed, at most
   ``MAX_TEXT_BYTES`` per file), JPEG comments and XMP, GIF comments and XMP, WebP XMP -- may
   hold no HTML tag at all (XMP's own elements carry a namespace prefix, ``<rdf:li>``, and
   pass). Here shorter patterns are safe because the bytes are text, not compressed data.
3. The end: a PNG must end at ``IEND`` and a WebP at the end of its RIFF chunk. JPEG and GIF
   may carry bytes after their end marker (phones append the video of a motion photo after a
   JPEG's end), and check 1 covers those bytes.

Left alone on purpose: ``<svg`` or ``<a href=javascript:`` inside binary blocks (inert without
a handler or a click; at four bytes a chance match in pixel data would refuse about one large
photo in a thousand), and scripts in PDF (JavaScript actions are PDF's own feature, not a
second format). Plain text is checked when sniffed (``validate.sniff``): a text file that is
really an HTML, SVG or XML document or a PDF is refused there; markup quoted inside a chat log
is evidence and is kept.
"""

from __future__ import annotations

import re
import struct
import zlib

MAX_TEXT_BYTES = 4 * 1024 * 1024  # decompressed PNG text per file; more is refused, not scanned

# Event-handler attributes browsers implement (HTML, SVG, and the prefixes whose families grow).
_HANDLERS = (
    rb"abort|afterprint|animation[a-z]+|auxclick|before[a-z]+|begin|blur|cancel|canplay[a-z]*|"
    rb"change|click|close|content[a-z]+|context[a-z]+|copy|cuechange|cut|dblclick|drag[a-z]*|"
    rb"drop|durationchange|emptied|end|ended|error|focus[a-z]*|formdata|fullscreen[a-z]+|"
    rb"gotpointercapture|hashchange|input|invalid|key[a-z]+|language[a-z]*|load[a-z]*|"
    rb"lostpointercapture|message[a-z]*|mouse[a-z]+|offline|online|page[a-z]+|paste|pause|"
    rb"play[a-z]*|pointer[a-z]+|popstate|progress|ratechange|readystatechange|"
    rb"rejectionhandled|repeat|reset|resize|scroll[a-z]*|search|securitypolicyviolation|"
    rb"seek[a-z]+|select[a-z]*|show|slotchange|stalled|storage|submit|suspend|timeupdate|"
    rb"toggle|touch[a-z]+|transition[a-z]+|unhandledrejection|unload|visibilitychange|"
    rb"volumechange|waiting|webkit[a-z]+|wheel|zoom"
)
# Both run on a lower-cased copy, so each begins with a literal that the regex engine finds at
# memchr speed (a case-insensitive pattern, or one that begins with a character class, tries
# every position and is some thirty times slower).
_SCRIPT_ELEMENT = re.compile(rb"<(?:script|iframe|object|embed|applet|frameset|html)[\t\n\f\r />]")
_HANDLER = re.compile(rb"on(?:" + _HANDLERS + rb")[\t\n\f\r ]*=")
# What may precede an attribute name in a tag (white space, "/", or the quote closing a value).
_ATTRIBUTE_START = frozenset(b"\t\n\f\r /\"'")
# In text blocks, any HTML element at all (XMP elements are prefixed: ``<x:xmpmeta``).
_TAG_IN_TEXT = re.compile(rb"(?i)<[a-z][a-z0-9-]*[\t\n\f\r />]")

_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")
_ARCHIVE_SIGNATURES = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c")
# A local-file header with a version (<= 6.3), a known method and a name of 1-1024 bytes whose
# first is printable; the rest of the name is checked in Python. Doing the field checks in the
# expression keeps a file of repeated signatures at regex speed.
_ZIP_LOCAL = re.compile(
    rb"PK\x03\x04[\x00-\x3f][\x00-\xff][\x00-\xff]{2}"
    rb"[\x00-\x0e\x12\x13\x5d\x5f-\x63]\x00[\x00-\xff]{16}"
    rb"(?:[\x01-\xff][\x00-\x03]|\x00[\x01-\x04])[\x00-\xff]{2}[\x20-\x7e\x80-\xff]"
)
_ZIP_CENTRAL = b"PK\x01\x02"
_ZIP_END = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP_SEARCH = 22 + 0xFFFF  # end record plus the longest comment: where readers look

_XMP_JPEG = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
_PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt"}


class Malformed(Exception):
    """The blocks do not add up (a length past the end): the file is damaged."""


def hidden_content(content_type: str, data: bytes) -> str | None:
    """Why ``data`` is also another kind of file, or None. The reason is for tests and
    benchmarks; reporters see one translated message."""
    reason = _in_whole_file(content_type, data)
    if reason is None and content_type == "image/png":
        reason = _png(data)
    elif reason is None and content_type == "image/jpeg":
        reason = _jpeg(data)
    elif reason is None and content_type == "image/gif":
        reason = _gif(data)
    elif reason is None and content_type == "image/webp":
        reason = _webp(data)
    return reason


def _in_whole_file(content_type: str, data: bytes) -> str | None:
    if _active_markup(data):
        return "script-capable markup"
    if _zip_inside(data):
        return "zip archive"
    if any(signature in data for signature in _ARCHIVE_SIGNATURES):
        return "rar or 7z archive"
    if content_type.startswith("image/") and _PDF_HEADER.search(data):
        return "pdf document"
    return None


def _active_markup(data: bytes) -> bool:
    lowered = data.lower()
    if _SCRIPT_ELEMENT.search(lowered):
        return True
    return any(
        found.start() > 0 and lowered[found.start() - 1] in _ATTRIBUTE_START
        for found in _HANDLER.finditer(lowered)
    )


def _text_block(text: bytes) -> str | None:
    if _TAG_IN_TEXT.search(text) or _active_markup(text):
        return "markup in metadata text"
    return None


# --- ZIP: found the way readers find it ----------------------------------------------------------


def _zip_inside(data: bytes) -> bool:
    start = max(0, len(data) - _ZIP_SEARCH)
    end = data.rfind(_ZIP_END, start)
    while end != -1:
        if _is_zip_end(data, end):
            return True
        end = data.rfind(_ZIP_END, start, end + 3)
    # Search again from the byte after each candidate, so a decoy header cannot hide a real
    # one that starts inside it.
    found = _ZIP_LOCAL.search(data)
    while found is not None:
        if _has_printable_name(data, found.start()):
            return True
        found = _ZIP_LOCAL.search(data, found.start() + 1)
    return False


def _is_zip_end(data: bytes, at: int) -> bool:
    """An end-of-central-directory record that points at a central directory, as unzip checks."""
    if at + 22 > len(data):
        return False
    disk, cd_disk, on_disk, entries, cd_size = struct.unpack_from("<HHHHI", data, at + 4)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # ZIP64: its locator sits just before
        return data[max(0, at - 20) : at - 16] == _ZIP64_LOCATOR
    if disk != cd_disk or on_disk != entries or entries == 0 or cd_size < 46 * entries:
        return False
    cd_start = at - cd_size  # readers tolerate data before the archive, so trust the size
    return cd_start >= 0 and data[cd_start : cd_start + 4] == _ZIP_CENTRAL


def _has_printable_name(data: bytes, at: int) -> bool:
    (name_length,) = struct.unpack_from("<H", data, at + 26)
    name = data[at + 30 : at + 30 + name_length]
    return len(name) == name_length and all(0x20 <= byte != 0x7F for byte in name)


# --- PNG ------------------------------------------------------------------------------------------


def _png(data: bytes) -> str | None:
    view = memoryview(data)
    pos, text_budget = 8, MAX_TEXT_BYTES
    while True:
        if pos + 12 > len(data):
            raise Malformed
        length, kind = struct.unpack_from(">I4s", data, pos)
        body_end = pos + 8 + length
        if body_end + 4 > len(data):
            raise Malformed
        if kind in _PNG_TEXT:
            text, inflated = _png_text(kind, view[pos + 8 : body_end], text_budget)
            if inflated > text_budget:
                return "oversized metadata text"
            text_budget -= inflated
            if reason := _text_block(text):
                return reason
        pos = body_end + 4
        if kind == b"IEND":
            return "data after the end" if pos != len(data) else None


def _png_text(kind: bytes, body: memoryview, budget: int) -> tuple[bytes, int]:
    """The text a viewer would show, and how many bytes decompressing it produced (at most
    ``budget + 1``: decompression stops there, so a text bomb costs no more than that)."""
    raw = bytes(body)
    keyword, _, rest = raw.partition(b"\x00")
    if kind == b"zTXt":
        return _inflate(keyword, rest[1:], budget)
    if kind == b"iTXt" and rest[:1] == b"\x01":
        _language, _, rest = rest[2:].partition(b"\x00")
        translated, _, compressed = rest.partition(b"\x00")
        return _inflate(keyword + b"\x00" + translated, compressed, budget)
    return raw, 0


def _inflate(head: bytes, compressed: bytes, budget: int) -> tuple[bytes, int]:
    try:
        text = zlib.decompressobj().decompress(compressed, max(budget, 0) + 1)
    except zlib.error:
        return head + compressed, 0  # a viewer shows nothing of it; scan the raw bytes
    return head + b"\x00" + text, len(text)


# --- JPEG -----------------------------------------------------------------------------------------

# After a start-of-scan the entropy-coded data runs to the next marker: 0xFF followed by a byte
# that is not a stuffed zero, a restart marker or fill.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_STANDALONE = {0x01, *range(0xD0, 0xD9)}  # TEM, RST0-7, SOI


def _jpeg(data: bytes) -> str | None:
    pos = 2
    while pos + 1 < len(data):
        if data[pos] != 0xFF or data[pos + 1] == 0xFF:
            # Stray bytes or fill before a marker: decoders skip them, and so do we.
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                return None
            pos = found.start()
        marker = data[pos + 1]
        if marker == 0xD9:  # end of image; what follows is a trailer, covered by check 1
            return None
        if marker in _STANDALONE:
            pos += 2
            continue
        if pos + 4 > len(data):
            return None  # truncated: decoders stop here too
        length = data[pos + 2] << 8 | data[pos + 3]
        is_text = marker == 0xFE or (marker == 0xE1 and data.startswith(_XMP_JPEG, pos + 4))
        if is_text and (reason := _text_block(data[pos + 4 : pos + 2 + length])):
            return reason
        pos += 2 + length
        if marker == 0xDA:
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                return None
            pos = found.start()
    return None


# --- GIF ------------------------------------------------------------------------------------------


def _gif(data: bytes) -> str | None:
    if len(data) < 13:
        raise Malformed
    flags = data[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos < len(data):
        introducer = data[pos]
        if introducer == 0x21 and pos + 1 < len(data):  # extension
            label = data[pos + 1]
            blocks, end = _sub_blocks(data, pos + 2)
            if label in (0xFE, 0x01) and (reason := _text_block(b"".join(blocks))):
                return reason  # comment or plain-text extension
            # XMP in GIF is stored raw (not in sub-blocks), so its span is scanned as written.
            is_xmp = label == 0xFF and data[pos + 3 : pos + 14] == b"XMP DataXMP"
            if is_xmp and (reason := _text_block(data[pos + 14 : end])):
                return reason
            pos = end
        elif introducer == 0x2C and pos + 10 <= len(data):  # image
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
            _blocks, pos = _sub_blocks(data, pos, keep=False)
        else:
            # The trailer (0x3B) or bytes a decoder ignores: what follows is covered by check 1.
            return None
    return None


def _sub_blocks(data: bytes, pos: int, *, keep: bool = True) -> tuple[list[bytes], int]:
    """The data sub-blocks starting at ``pos`` and the position after their terminator."""
    blocks: list[bytes] = []
    size = len(data)
    while pos < size:
        length = data[pos]
        if length == 0:
            return blocks, pos + 1
        if keep:
            blocks.append(data[pos + 1 : pos + 1 + length])
        pos += 1 + length
    return blocks, size


# --- WebP -----------------------------------------------------------------------------------------


def _webp(data: bytes) -> str | None:
    if len(data) < 12:
        raise Malformed
    (riff_size,) = struct.unpack_from("<I", data, 4)
    riff_end = 8 + riff_size
    if riff_end > len(data):
        raise Malformed
    pos = 12
    while pos + 8 <= riff_end:
        kind, length = struct.unpack_from("<4sI", data, pos)
        if kind == b"XMP " and (reason := _text_block(data[pos + 8 : pos + 8 + length])):
            return reason
        pos += 8 + length + (length & 1)
    if len(data) > riff_end + (riff_size & 1):
        return "data after the end"
    return None
