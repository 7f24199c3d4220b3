"""Evidence-log import: recognise an export from its content and read it into `Item`s.

`detect()` looks at the bytes (magic numbers, the first line, the JSON or XML structure); the
file name only breaks a tie. `parse()` either returns a complete `ParseResult` (with warnings the
victim should read) or raises `ParseError` with a plain message: nothing is half-imported.
Every parser is a pure function over bytes, so the web locker, the CLI and the fuzzing harness
run exactly the same code. Limits are in `tipline.locker.parsers.limits`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tipline.locker.parsers import eml, meta, screenshot, sms, telegram, whatsapp
from tipline.locker.parsers.common import decode_text, load_json
from tipline.locker.parsers.i18n import _, gettext_noop
from tipline.locker.parsers.limits import limit, megabytes
from tipline.locker.types import Format, ParseError, ParseResult

__all__ = ["FORMATS", "detect", "parse"]

FORMATS: tuple[Format, ...] = ("eml", "whatsapp", "telegram", "meta", "sms-backup", "screenshot")
_EXTENSIONS: dict[str, Format] = {
    ".eml": "eml",
    ".txt": "whatsapp",
    ".zip": "whatsapp",
    ".json": "telegram",
    ".xml": "sms-backup",
    ".png": "screenshot",
    ".jpg": "screenshot",
    ".jpeg": "screenshot",
    ".webp": "screenshot",
}
_ZIP = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"
_SMS_ROOT = re.compile(
    # Declarations, comments and a DOCTYPE may come first; the DOCTYPE is matched so that the
    # parser can refuse it by name (entity bombs, external entities), not as "unrecognised".
    rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?[^>]{0,500}\?>\s*|<!--.{0,2000}?-->\s*"
    rb"|<!DOCTYPE[^\[>]{0,500}(?:\[.{0,6000}?\])?\s*>\s*)*<(smses|calls)[\s>/]",
    re.DOTALL,
)
_XML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<")
# Every export we read is a JSON object; "[" starts iOS WhatsApp lines, so it is not JSON here.
_JSON_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*\{")


def detect(data: bytes, filename: str = "") -> Format | None:
    """The export's format, from its content; None when it is none we read."""
    candidates = _candidates(data)
    if not candidates:
        return None
    if len(candidates) > 1:
        by_name = _EXTENSIONS.get(_suffix(filename))
        if by_name in candidates:
            return by_name
    return candidates[0]


def parse(data: bytes, filename: str = "") -> ParseResult:
    """Read an export completely, or raise ParseError with a message for the victim."""
    most = limit("MAX_INPUT_BYTES")
    if len(data) > most:
        raise ParseError(
            _(
                "The file is %(size)s; the largest file we import is %(most)s. "
                "Export a shorter period, or without media."
            )
            % {"size": megabytes(len(data)), "most": megabytes(most)}
        )
    if not data or data.isspace():
        raise ParseError(_("The file is empty."))
    result = _parse_known(data, filename)
    if not result.items:
        result.warnings.append(_("The file was read, but it holds no messages or items."))
    return result


def _parse_known(data: bytes, filename: str) -> ParseResult:
    if _JSON_START.match(data[:64]):
        # Loaded once, and its errors (nesting bomb, damage) are reported as they are.
        warnings: list[str] = []
        document = load_json(data, warnings)
        if telegram.looks_like_telegram(document):
            return telegram.parse_telegram(document, warnings)
        if meta.looks_like_meta(document):
            return meta.parse_meta(document, warnings)
        raise ParseError(_(_UNKNOWN))
    if data.startswith((_ZIP, _EMPTY_ZIP)):
        # The only archives we read; the parser says why one is refused (damaged, no chat...).
        return whatsapp.parse_whatsapp_zip(data, filename)
    fmt = detect(data, filename)
    if fmt is None:
        raise ParseError(_(_UNKNOWN))
    return _PARSERS[fmt](data, filename)


# Marked here, translated where raised: the language is the request's, not the import's.
_UNKNOWN = gettext_noop(
    "We do not recognise this file. We read e-mails (.eml), WhatsApp chat exports (.txt or "
    ".zip), Telegram Desktop JSON, Instagram/Facebook message JSON, SMS Backup & Restore XML, "
    "and screenshots (PNG, JPEG, WebP)."
)


def _suffix(filename: str) -> str:
    name = filename.lower().rsplit("/", 1)[-1]
    return name[name.rfind(".") :] if "." in name else ""


def _candidates(data: bytes) -> list[Format]:
    if screenshot.is_image(data):
        return ["screenshot"]
    if data.startswith((_ZIP, _EMPTY_ZIP)):
        return ["whatsapp"] if _zip_has_chat(data) else []
    if _SMS_ROOT.match(data[:8192]):
        return ["sms-backup"]
    if _JSON_START.match(data[:64]):
        return _json_formats(data)
    if _XML_START.match(data[:64]):
        return []
    head = decode_text(data[:8192], [])
    found: list[Format] = []
    if whatsapp.looks_like_whatsapp(head):
        found.append("whatsapp")
    if eml.looks_like_email(data[:65536]):
        found.append("eml")
    return found


def _zip_has_chat(data: bytes) -> bool:
    # Only the central directory is read here; members are read (within limits) by the parser.
    import zipfile
    from io import BytesIO

    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            names = archive.namelist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        NotImplementedError,
    ):
        return False
    return whatsapp.chat_member_name(names) is not None


def _json_formats(data: bytes) -> list[Format]:
    try:
        document = load_json(data, [])
    except ParseError:
        return []
    found: list[Format] = []
    if telegram.looks_like_telegram(document):
        found.append("telegram")
    if meta.looks_like_meta(document):
        found.append("meta")
    return found


def _parse_whatsapp(data: bytes, filename: str) -> ParseResult:
    if data.startswith((_ZIP, _EMPTY_ZIP)):
        return whatsapp.parse_whatsapp_zip(data, filename)
    return whatsapp.parse_whatsapp_text(data, filename)


_PARSERS: dict[str, Callable[[bytes, str], ParseResult]] = {
    "eml": eml.parse_eml,
    "whatsapp": _parse_whatsapp,
    # JSON formats are read in parse() itself, which loads the document once.
    "sms-backup": sms.parse_sms_backup,
    "screenshot": screenshot.parse_screenshot,
}
