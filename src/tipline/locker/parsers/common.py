"""Shared, defensive readers: text decoding, bounded JSON and safe zip extraction.

Security rationale: every export arrives from a phone or a computer we do not control and may
have been crafted by the person the victim is documenting. So a zip is read member by member
into memory (never written to disk) within member-count, total-size and ratio limits, with
absolute paths, `..`, symlinks, encrypted and nested archives refused; JSON nesting is measured
before `json.loads` so a nesting bomb cannot exhaust the stack; text that is not valid UTF-8 is
read with replacement characters and a warning instead of being dropped.
"""

from __future__ import annotations

import json
import lzma
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import numpy as np

from tipline.locker.parsers.i18n import _
from tipline.locker.parsers.limits import limit, megabytes
from tipline.locker.types import Item, ParseError

MAX_NAME_CHARS = 200


def decode_text(data: bytes, warnings: list[str]) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else UTF-8 with replacements + a warning."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("utf-8-sig", errors="replace")
        broken = text.count("\ufffd") - data.count("\xef\xbf\xbd".encode("latin-1"))
        warnings.append(
            _(
                "%(count)s character(s) were not valid UTF-8 text and are shown as %(mark)s; "
                "the rest of the file was read normally."
            )
            # The mark is passed in: xgettext would not read the escape as the character.
            % {"count": max(broken, 1), "mark": "\ufffd"}
        )
        return text


def clean_name(name: str) -> str:
    """A display name for a file: no folders, no control characters, bounded. Never a path."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:MAX_NAME_CHARS] or "file"


# Byte classes for json_depth: 1 a quote, 2 an opening bracket, 3 a closing one.
_CLASS = np.zeros(256, dtype=np.int8)
_CLASS[ord('"')] = 1
_CLASS[list(b"[{")] = 2
_CLASS[list(b"]}")] = 3
_STEP = np.array([0, 0, 1, -1], dtype=np.int8)


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects, counted without recursion or a Python loop.

    Escapes are blanked first (backslash pairs, then backslash-quote, left to right, which is
    exact for valid JSON), so every remaining quote opens or closes a string. Only quotes and
    brackets are kept; a running XOR of the quotes marks which brackets are inside strings, and
    the others are summed with NumPy. Invalid JSON may be measured wrongly, but json.loads
    refuses it anyway.
    """
    cleaned = data.replace(b"\\\\", b"  ").replace(b'\\"', b"  ")
    classes = _CLASS[np.frombuffer(cleaned, dtype=np.uint8)]
    marks = classes[np.flatnonzero(classes)]
    if marks.size == 0:
        return 0
    quotes = marks == 1
    inside = np.bitwise_xor.accumulate(quotes)
    steps = _STEP[marks[~inside & ~quotes]]
    if steps.size == 0:
        return 0
    return int(np.cumsum(steps, dtype=np.int32).max())


def load_json(data: bytes, warnings: list[str]) -> Any:
    nesting = limit("MAX_NESTING")
    if json_depth(data) > nesting:
        raise ParseError(
            _("The JSON file is nested more than %(levels)s levels deep; refused.")
            % {"levels": nesting}
        )
    text = decode_text(data, warnings)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseError(
            _("The JSON file is damaged (line %(line)s, column %(column)s): %(reason)s.")
            % {"line": error.lineno, "column": error.colno, "reason": error.msg}
        ) from None
    except RecursionError:  # pragma: no cover - json_depth refuses this first
        raise ParseError(_("The JSON file is nested too deeply; refused.")) from None


def check_item_count(count: int) -> None:
    most = limit("MAX_ITEMS")
    if count > most:
        raise ParseError(
            _("The file holds more than %(count)s items; split it and import parts.")
            % {"count": f"{most:,}"}
        )


ARCHIVE_SUFFIXES = (".zip", ".jar", ".apk", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh")


@dataclass(frozen=True, slots=True)
class ZipMember:
    name: str  # as stored in the archive (checked: relative, no `..`)
    data: bytes


def _check_member_name(name: str) -> None:
    normal = name.replace("\\", "/")
    parts = normal.split("/")
    if normal.startswith("/") or re.match(r"^[A-Za-z]:", normal) or ".." in parts:
        raise ParseError(
            _(
                "The zip file contains a file with an unsafe path (absolute, or using “..”); "
                "refused."
            )
        )
    if "\x00" in name:
        raise ParseError(_("The zip file contains a file with an unsafe name; refused."))


def read_zip(data: bytes) -> list[ZipMember]:
    """Every regular member of a zip, in memory, within the limits; ParseError otherwise."""
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
    ):
        raise ParseError(_("The zip file is damaged and cannot be opened.")) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limit("MAX_ZIP_MEMBERS"):
            raise ParseError(
                _("The zip file holds more than %(count)s files; refused.")
                % {"count": f"{limit('MAX_ZIP_MEMBERS'):,}"}
            )
        total_limit = limit("MAX_ZIP_TOTAL_BYTES")
        if sum(info.file_size for info in infos) > total_limit:
            raise ParseError(
                _("The zip file would unpack to more than %(size)s; refused.")
                % {"size": megabytes(total_limit)}
            )
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            # Two entries with one name read differently in different unzip tools.
            raise ParseError(_("The zip file contains two files with the same name; refused."))
        members: list[ZipMember] = []
        total = 0
        for info in infos:
            _check_member_name(info.filename)
            if info.is_dir():
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ParseError(_("The zip file contains a symbolic link; refused."))
            if info.flag_bits & 0x1:
                raise ParseError(_("The zip file is password-protected; export it again without."))
            if info.filename.lower().endswith(ARCHIVE_SUFFIXES):
                raise ParseError(_("The zip file contains another archive inside it; refused."))
            body = _read_member(archive, info, total_limit - total)
            if body.startswith(_ARCHIVE_MAGIC):
                raise ParseError(_("The zip file contains another archive inside it; refused."))
            total += len(body)
            members.append(ZipMember(info.filename, body))
        return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    ratio = limit("MAX_ZIP_RATIO")
    small = limit("ZIP_RATIO_MIN_BYTES")
    if info.file_size >= small and info.file_size > ratio * max(info.compress_size, 1):
        raise ParseError(
            _("The zip file expands far more than real exports do (a zip bomb); refused.")
        )
    # The declared sizes are checked above, but they are the attacker's word; the reads below
    # stop at the budget whatever the header says.
    cap = min(budget, info.file_size) + 1
    chunks: list[bytes] = []
    got = 0
    try:
        with archive.open(info) as handle:
            while got < cap:
                chunk = handle.read(min(1 * 1024 * 1024, cap - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
    except (
        zipfile.BadZipFile,
        zlib.error,
        lzma.LZMAError,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ):
        raise ParseError(
            _("A file inside the zip is damaged or uses an unsupported method.")
        ) from None
    if got > min(budget, info.file_size):
        raise ParseError(_("The zip file expands beyond what its directory declares; refused."))
    if got >= small and got > ratio * max(info.compress_size, 1):
        raise ParseError(
            _("The zip file expands far more than real exports do (a zip bomb); refused.")
        )
    return b"".join(chunks)


def collect_messages(
    messages: list[Any], make: Callable[[dict[str, Any]], Item | None], into: list[Item]
) -> int:
    """Append ``make(message)`` for every JSON object in ``messages`` that it can read; returns
    how many entries were skipped (not an object, or unreadable), for the parser's warning."""
    skipped = 0
    for message in messages:
        item = make(message) if isinstance(message, dict) else None
        if item is None:
            skipped += 1
        else:
            into.append(item)
    return skipped
