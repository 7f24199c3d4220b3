"""Formats are recognised from content; the file name only breaks ties; refusals are plain."""

from __future__ import annotations

import pytest

from tests.locker.parsers.conftest import fixture
from tipline.locker.parsers import detect, parse
from tipline.locker.types import ParseError

FIXTURE_FORMATS = [
    ("whatsapp_android.txt", "whatsapp"),
    ("whatsapp_ios.txt", "whatsapp"),
    ("WhatsApp Chat - Sam Carter.zip", "whatsapp"),
    ("telegram_chat.json", "telegram"),
    ("telegram_full_export.json", "telegram"),
    ("instagram_message_1.json", "meta"),
    ("sms-20240316080000.xml", "sms-backup"),
    ("calls-20240316080000.xml", "sms-backup"),
    ("harassment.eml", "eml"),
    ("screenshot.png", "screenshot"),
]


@pytest.mark.parametrize(("name", "expected"), FIXTURE_FORMATS)
def test_each_fixture_is_detected_from_content_whatever_its_name(name: str, expected: str) -> None:
    data = fixture(name)
    assert detect(data) == expected
    assert detect(data, "misleading.pdf") == expected
    result = parse(data, "renamed.bin")
    assert result.format == expected
    assert result.items


def test_an_export_with_the_wrong_extension_is_still_read_by_content() -> None:
    # A Telegram export renamed .xml and an e-mail renamed .txt are read for what they are.
    assert detect(fixture("telegram_chat.json"), "chat.xml") == "telegram"
    assert detect(fixture("harassment.eml"), "mail.txt") == "eml"


@pytest.mark.parametrize(
    "data",
    [
        b"Just some notes I wrote about what happened.\nNothing structured.\n",
        b'{"hello": "world"}',
        b"<html><body>not an export</body></html>",
        b"<?xml version='1.0'?><root/>",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"\x00\x01\x02\x03binary",
        b"GIF89a\x01\x00\x01\x00",
    ],
)
def test_unknown_content_gets_a_clear_answer(data: bytes) -> None:
    assert detect(data) is None
    with pytest.raises(ParseError, match="We do not recognise this file"):
        parse(data)


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(ParseError, match="empty"):
        parse(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x05\x06" + b"\x00" * 18, "does not contain a WhatsApp chat"),
        (b"PK\x03\x04" + b"\x00" * 40, "damaged"),
    ],
)
def test_a_zip_that_is_not_a_chat_export_says_why(data: bytes, message: str) -> None:
    assert detect(data) is None
    with pytest.raises(ParseError, match=message):
        parse(data)
