"""Hostile and broken input: every case is refused with a plain ParseError or read with a warning.

Nothing here may raise anything but ParseError, hang, or allocate far more than the input.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib

import pytest
from django.conf import LazySettings
from django.utils import translation
from PIL import Image, ImageFile

from tests.locker.parsers.conftest import fixture
from tipline.locker.parsers import parse
from tipline.locker.parsers.common import json_depth
from tipline.locker.types import ParseError

CHAT = b"12/03/2024, 09:15 - Sam: I know where you live\n"


def _zip(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_zip_bomb_is_refused_by_ratio() -> None:
    bomb = _zip(("_chat.txt", CHAT), ("IMG-0001.jpg", bytes(20 * 1024 * 1024)))
    assert len(bomb) < 100_000
    with pytest.raises(ParseError, match="zip bomb"):
        parse(bomb)


def test_zip_whose_total_would_exceed_the_limit_is_refused(settings: LazySettings) -> None:
    settings.TIPLINE_LOCKER_MAX_ZIP_TOTAL_BYTES = 1000
    data = _zip(("_chat.txt", CHAT), ("a.jpg", b"x" * 600), ("b.jpg", b"y" * 600))
    with pytest.raises(ParseError, match="unpack to more than"):
        parse(data)


def test_zip_with_too_many_members_is_refused(settings: LazySettings) -> None:
    settings.TIPLINE_LOCKER_MAX_ZIP_MEMBERS = 3
    data = _zip(("_chat.txt", CHAT), *((f"{n}.jpg", b"x") for n in range(5)))
    with pytest.raises(ParseError, match="more than 3 files"):
        parse(data)


def test_zip_member_lying_about_its_size_is_refused() -> None:
    data = bytearray(_zip(("_chat.txt", CHAT), ("a.jpg", b"z" * 5000)))
    # Patch a.jpg's declared size (central directory and local header) down to 10 bytes.
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = data.rfind(signature)
        struct.pack_into("<I", data, start + offset, 10)
    with pytest.raises(ParseError):
        parse(bytes(data))


@pytest.mark.parametrize(
    "name", ["../evil.txt", "/etc/cron.d/x", "media/../../x.jpg", "C:\\Windows\\x.jpg", "..\\x.jpg"]
)
def test_zip_path_traversal_is_refused(name: str) -> None:
    with pytest.raises(ParseError, match="unsafe path"):
        parse(_zip(("_chat.txt", CHAT), (name, b"x")))


def test_zip_with_duplicate_names_is_refused() -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = _zip(("_chat.txt", CHAT), ("_chat.txt", b"12/03/2024, 09:16 - Sam: other\n"))
    with pytest.raises(ParseError, match="same name"):
        parse(data)


def test_zip_symlink_is_refused() -> None:
    link = zipfile.ZipInfo("IMG-0001.jpg")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(ParseError, match="symbolic link"):
        parse(_zip(("_chat.txt", CHAT), (link, b"/etc/passwd")))


def test_nested_archives_are_refused_by_name_and_by_content() -> None:
    inner = _zip(("_chat.txt", CHAT))
    with pytest.raises(ParseError, match="another archive"):
        parse(_zip(("_chat.txt", CHAT), ("more.zip", inner)))
    with pytest.raises(ParseError, match="another archive"):
        parse(_zip(("_chat.txt", CHAT), ("IMG-0001.jpg", inner)))


def test_encrypted_zip_member_is_refused() -> None:
    data = bytearray(_zip(("_chat.txt", CHAT)))
    for signature, offset in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        start = data.find(signature)
        struct.pack_into("<H", data, start + offset, 1)
    with pytest.raises(ParseError, match="password"):
        parse(bytes(data))


def test_input_over_the_limit_is_refused_before_reading(settings: LazySettings) -> None:
    settings.TIPLINE_LOCKER_MAX_INPUT_BYTES = 1024
    with pytest.raises(ParseError, match="largest file we import is"):
        parse(CHAT * 100)


def test_json_nesting_bomb_is_refused_without_recursion() -> None:
    bomb = b'{"messages": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with pytest.raises(ParseError, match="nested more than 64"):
        parse(bomb)
    unbalanced = b'{"participants": [], "messages": ' + b"[{" * 100_000
    with pytest.raises(ParseError):
        parse(unbalanced)


def test_brackets_inside_json_strings_do_not_count_as_nesting() -> None:
    assert json_depth(b'{"a": "[[[[{{{{\\"[[[["}') == 1
    assert json_depth(b'[[["]"]]]') == 3


def test_xml_entity_bomb_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE smses [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<smses count="1"><sms address="1" date="1" type="1" body="&c;" /></smses>'
    )
    with pytest.raises(ParseError, match="DTD"):
        parse(laughs)


def test_xml_external_entity_is_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE smses [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<smses count="1"><sms address="1" date="1" type="1" body="&x;" /></smses>'
    )
    with pytest.raises(ParseError, match="DTD"):
        parse(xxe)


def test_xml_too_deep_is_refused() -> None:
    deep = b"<smses>" + b"<a>" * 1000 + b"</a>" * 1000 + b"</smses>"
    with pytest.raises(ParseError, match="nested more than"):
        parse(deep)


def test_broken_utf8_in_json_is_read_with_a_warning() -> None:
    data = (
        b'{"name": "X", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": '
        b'"message", "date": "2024-03-10T19:01:00", "from": "S", "text": "caf\xe9"}]}'
    )
    result = parse(data)
    assert result.items[0].text == "caf\ufffd"
    assert result.warnings


@pytest.mark.parametrize(
    "name",
    [
        "WhatsApp Chat - Sam Carter.zip",
        "telegram_chat.json",
        "instagram_message_1.json",
        "sms-20240316080000.xml",
        "calls-20240316080000.xml",
        "screenshot.png",
    ],
)
def test_truncated_files_are_refused(name: str) -> None:
    data = fixture(name)
    for cut in (len(data) // 3, len(data) // 2, len(data) - 5):
        with pytest.raises(ParseError):
            parse(data[:cut], name)


@pytest.mark.parametrize("tolerant", [False, True])
def test_truncated_jpeg_is_refused(tolerant: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # WeasyPrint sets LOAD_TRUNCATED_IMAGES = True for the whole process when it is imported.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", tolerant)
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buffer, format="JPEG")
    with pytest.raises(ParseError, match="damaged or truncated"):
        parse(buffer.getvalue()[:-200])
    assert tolerant == ImageFile.LOAD_TRUNCATED_IMAGES


def test_image_decompression_bomb_is_refused() -> None:
    buffer = io.BytesIO()
    Image.new("1", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    # Claim 100,000 x 100,000 pixels in IHDR, with a valid CRC so only the size is wrong.
    struct.pack_into(">II", data, 16, 100_000, 100_000)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    with pytest.raises(ParseError, match="too many pixels"):
        parse(bytes(data))


def test_image_over_the_project_pixel_limit_is_refused(settings: LazySettings) -> None:
    settings.TIPLINE_MAX_IMAGE_PIXELS = 100
    with pytest.raises(ParseError, match="too many pixels"):
        parse(fixture("screenshot.png"))


def test_truncated_email_is_still_read_as_far_as_it_goes() -> None:
    # An e-mail has no end marker; a cut one is read, and what is there is kept as is.
    data = fixture("harassment.eml")
    result = parse(data[: data.index(b"Content-Type: text/html")])
    assert result.items[0].sender == "s.carter.1987@example.net"


def test_xml_with_an_unknown_encoding_is_refused() -> None:
    # Found by benchmarks/evidence_fuzz.py: expat raised LookupError, which escaped parse().
    data = b"<?xml version='1.0' encoding='UTF-IDAT8'?><smses></smses>"
    with pytest.raises(ParseError, match="encoding"):
        parse(data)


def test_zip_needing_an_unknown_version_is_refused() -> None:
    # Found by benchmarks/evidence_fuzz.py: zipfile raised NotImplementedError while opening.
    data = bytearray(_zip(("_chat.txt", CHAT)))
    start = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, start + 6, 148)  # "version needed to extract": 14.8
    with pytest.raises(ParseError):
        parse(bytes(data))


def test_telegram_full_export_with_a_non_list_messages_field_is_not_a_crash() -> None:
    # Found by benchmarks/evidence_fuzz.py: len() of an int escaped as TypeError.
    data = b'{"chats": {"list": [{"name": "X", "messages": 7}]}}'
    result = parse(data)
    assert result.items == []


def test_an_email_date_with_an_impossible_year_is_read_without_a_time() -> None:
    # Found by benchmarks/evidence_fuzz.py: the standard library's Date parsing raised
    # OverflowError (a twenty-digit year), which escaped parse().
    data = fixture("harassment.eml")
    start = data.index(b"\nDate: ") + 1
    end = data.index(b"\n", start)
    data = data[:start] + b"Date: Thu, 14 Mar 99999999999999999999 18:49:58 +0000\r" + data[end:]
    result = parse(data)
    assert result.items[0].timestamp is None
    assert any("Date" in warning for warning in result.warnings)


def test_refusals_and_warnings_come_out_in_the_request_language() -> None:
    # The import page shows these to victims as they are, so they follow the active language.
    with translation.override("fr"), pytest.raises(ParseError) as refused:
        parse(b"\x00\x01 not an export", "notes.bin")
    assert str(refused.value).startswith("Nous ne reconnaissons pas ce fichier.")
    with translation.override("fr"), pytest.raises(ParseError) as nested:
        parse(b'{"messages": ' + b"[" * 100 + b"]" * 100 + b"}")
    assert str(nested.value) == "Le fichier JSON est imbriqué sur plus de 64 niveaux\u00a0; refusé."
    data = (
        b'{"name": "X", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": '
        b'"message", "date": "2024-03-10T19:01:00", "from": "S", "text": "caf\xe9"}]}'
    )
    with translation.override("hi"):
        warnings = parse(data).warnings
    assert warnings == [
        "1 अक्षर सही UTF-8 टेक्स्ट नहीं थे और \ufffd के रूप में दिखाए गए हैं; बाकी फ़ाइल सामान्य रूप से पढ़ी गई।"
    ]
    with pytest.raises(ParseError, match="We do not recognise this file"):
        parse(b"\x00\x01 not an export", "notes.bin")
