"""E-mail, Telegram, Instagram/Facebook, SMS Backup & Restore and screenshots, as exported."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from PIL import Image

from tests.locker.parsers.conftest import fixture
from tipline.locker.parsers import parse
from tipline.locker.parsers.meta import repair
from tipline.locker.types import ParseError


def test_eml_fixture_keeps_the_facts_a_court_asks_for() -> None:
    result = parse(fixture("harassment.eml"))
    assert result.format == "eml"
    [item] = result.items
    assert item.kind == "email"
    assert item.sender == "s.carter.1987@example.net"
    assert item.identifiers == ("s.carter.1987@example.net",)
    assert item.timestamp == datetime(2024, 3, 14, 18, 50, 5, tzinfo=UTC)
    assert item.conversation == "You can't hide from me"
    assert item.text.startswith("You blocked my number")
    assert "\r" not in item.text
    meta = item.meta
    assert meta["Message-ID"] == "<20240314185005.4f8a9c2e@mail-out.example.net>"
    assert meta["Date"] == "Thu, 14 Mar 2024 18:50:05 +0000"
    assert meta["Received 1"].startswith("from mx1.example.org")
    assert meta["Received 3"].startswith("from [203.0.113.44]")
    assert "Received 4" not in meta
    assert "dkim=pass" in meta["Authentication-Results 1"]
    assert meta["DKIM-Signature"] == "d=example.net; s=mail2024"
    assert meta["Attachments"] == "bus-stop.png"
    assert item.attachments == ("bus-stop.png",)
    assert result.media["bus-stop.png"].startswith(b"\x89PNG")


def test_eml_html_only_body_becomes_text_without_scripts() -> None:
    data = (
        b"From: a@example.net\r\nTo: b@example.org\r\nSubject: hi\r\n"
        b"Date: Thu, 14 Mar 2024 18:50:05 -0000\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><head><style>p{}</style><script>alert(1)</script></head>"
        b"<body><p>I know where you work</p><img src='http://tracker.example/x.png'></body></html>"
    )
    item = parse(data).items[0]
    assert item.text == "I know where you work"
    assert item.timestamp == datetime(2024, 3, 14, 18, 50, 5, tzinfo=UTC)  # -0000 read as UTC


def test_eml_without_a_readable_date_warns() -> None:
    data = b"From: a@example.net\nSubject: hi\nDate: not a date\n\nbody\n"
    result = parse(data)
    assert result.items[0].timestamp is None
    assert result.warnings


def test_telegram_single_chat() -> None:
    result = parse(fixture("telegram_chat.json"))
    items = result.items
    assert items[0].kind == "call"
    assert items[0].text == "phone call (missed)"
    assert items[0].identifiers == ("user5550123",)
    assert items[1].timestamp == datetime(2024, 3, 10, 18, 1, tzinfo=UTC)  # date_unixtime wins
    # text as a list of parts
    assert items[4].text == (
        "Saw your new job on https://example.org/team \u2014 I know where you work now"
    )
    assert items[5].attachments == ("photo_1@11-03-2024_08-46-00.jpg",)
    assert items[7].attachments == ()
    assert items[7].meta["media"] == "not included in the export"
    assert {i.conversation for i in items} == {"Sam Carter"}


def test_telegram_full_export_reads_every_chat() -> None:
    result = parse(fixture("telegram_full_export.json"))
    assert {i.conversation for i in result.items} == {"Sam Carter", "Old Uni Friends"}
    system = [i for i in result.items if i.kind == "system"]
    assert system[0].text == "invite members"


def test_telegram_local_date_is_used_when_unixtime_is_missing() -> None:
    doc = {
        "name": "X",
        "type": "personal_chat",
        "id": 1,
        "messages": [
            {
                "id": 1,
                "type": "message",
                "date": "2024-03-10T19:01:00",
                "from": None,
                "from_id": "user1",
                "text": "hi",
            },
        ],
    }
    item = parse(json.dumps(doc).encode()).items[0]
    assert item.timestamp == datetime(2024, 3, 10, 19, 1)
    assert item.sender == "Deleted Account"


def test_meta_repairs_mojibake_and_sorts_oldest_first() -> None:
    result = parse(fixture("instagram_message_1.json"))
    items = result.items
    assert result.format == "meta"
    assert items[0].timestamp == datetime(2024, 3, 12, 17, 15, tzinfo=UTC)
    assert items[1].sender == "Jordan Bélanger"
    assert items[-1].text == "Tu ne peux pas m'ignorer éternellement. Je sais où tu habites 😠"
    assert items[2].kind == "call"
    assert items[3].attachments == ("17999999999999999.jpg",)
    assert items[4].meta["share_link"] == "https://www.instagram.com/p/EXAMPLE123/"


def test_meta_repair_leaves_correct_text_alone() -> None:
    assert repair("café") == "café"  # already right: Latin-1 bytes are not valid UTF-8
    assert repair("caf\u00c3\u00a9") == "café"
    assert repair("Ωmega") == "Ωmega"  # not Latin-1 at all


def test_meta_newer_accounts_center_shape() -> None:
    doc = {
        "participants": ["Sam", "Jordan"],
        "threadName": "Sam",
        "messages": [
            {
                "isUnsent": False,
                "media": [{"uri": "./media/a.jpg"}],
                "reactions": [],
                "senderName": "Sam",
                "text": "Je sais o\u00c3\u00b9 tu es",
                "timestamp": 1710263700000,
                "type": "text",
            },
        ],
    }
    item = parse(json.dumps(doc).encode()).items[0]
    assert (item.sender, item.text, item.attachments) == ("Sam", "Je sais où tu es", ("a.jpg",))


def test_sms_backup_sms_and_mms() -> None:
    result = parse(fixture("sms-20240316080000.xml"))
    items = result.items
    assert [i.kind for i in items] == ["message"] * 5 + ["mms"]
    assert items[0].sender == "Sam Carter"
    assert items[0].identifiers == ("+447700900123",)
    assert items[0].timestamp == datetime(2024, 3, 12, 9, 15, tzinfo=UTC)
    assert items[3].sender == "me"
    assert items[3].identifiers == ()
    assert items[4].text.endswith("live.\nMaple Close, number 7.")
    mms = items[5]
    assert mms.text == "Outside your work again today. Same time tomorrow."
    assert mms.attachments == ("IMG_0412.png",)
    assert result.media["IMG_0412.png"].startswith(b"\x89PNG")


def test_sms_backup_calls() -> None:
    items = parse(fixture("calls-20240316080000.xml")).items
    assert [i.kind for i in items] == ["call"] * 5
    assert [i.meta["direction"] for i in items] == [
        "missed",
        "missed",
        "rejected",
        "incoming",
        "outgoing",
    ]
    assert items[3].meta["duration_seconds"] == "42"
    assert items[4].sender == "me"
    assert items[0].identifiers == ("+447700900123",)


def test_screenshot_with_exif_time() -> None:
    result = parse(fixture("screenshot.png"), "Screenshot_20240314.png")
    [item] = result.items
    assert item.kind == "image"
    assert item.timestamp == datetime(2024, 3, 14, 21, 16, 5)
    assert item.attachments == ("Screenshot_20240314.png",)
    assert result.media["Screenshot_20240314.png"] == fixture("screenshot.png")


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_screenshot_jpeg_and_webp_without_exif(fmt: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buffer, format=fmt)
    result = parse(buffer.getvalue())
    assert result.format == "screenshot"
    assert result.items[0].timestamp is None
    assert result.items[0].meta["format"] == fmt


def test_json_that_is_neither_telegram_nor_meta_is_refused() -> None:
    with pytest.raises(ParseError):
        parse(b'{"messages": "not a list", "participants": 3}')


@pytest.mark.parametrize(
    "data",
    [
        b'{"name": "Sam", "type": "personal_chat", "id": 1, "messages": []}',
        b'{"participants": [], "messages": []}',
        b"<?xml version='1.0'?><smses count=\"0\"></smses>",
    ],
)
def test_an_export_with_no_messages_is_read_with_a_warning(data: bytes) -> None:
    result = parse(data)
    assert result.items == []
    assert result.warnings == ["The file was read, but it holds no messages or items."]


def test_sms_backup_large_file_reads_every_message() -> None:
    rows = "".join(
        f'<sms address="+447700900123" date="{1710234900000 + n * 1000}" type="1" body="n{n}" />'
        for n in range(5000)
    )
    result = parse(f"<smses>{rows}</smses>".encode())
    assert len(result.items) == 5000
    assert result.items[-1].text == "n4999"
