"""WhatsApp exports: Android and iOS, locales, clocks, multi-line, system lines, zip with media."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest

from tests.locker.parsers.conftest import fixture
from tipline.locker.parsers import detect, parse
from tipline.locker.types import ParseError


def test_android_export_fixture() -> None:
    result = parse(fixture("whatsapp_android.txt"), "WhatsApp Chat with Sam Carter.txt")
    assert result.format == "whatsapp"
    items = result.items
    assert len(items) == 15
    assert items[0].kind == "system"
    assert items[0].sender == ""
    assert items[1].sender == "Sam Carter"
    assert items[1].timestamp == datetime(2024, 3, 12, 9, 15)
    assert items[1].timestamp.tzinfo is None  # the export carries no zone
    assert items[1].conversation == "Sam Carter"
    multi = items[10]
    assert multi.text == (
        "Your sister Emma picks the kids up at 3:30 on Thursdays.\nI could have a word with her"
        "\nabout you"
    )
    attached = items[8]
    assert attached.attachments == ("IMG-20240313-WA0004.jpg",)
    assert "Riverside House" in attached.text
    assert items[9].meta["media"] == "omitted from the export"
    assert items[-1].kind == "system"
    assert result.warnings == []


def test_ios_export_fixture_crlf_marks_12_hour_month_first() -> None:
    result = parse(fixture("whatsapp_ios.txt"))
    items = result.items
    assert items[0].kind == "system"  # iOS marks its notices with U+200E
    assert items[3].kind == "call"
    assert items[3].sender == "Sam Carter"
    assert items[3].timestamp == datetime(2024, 3, 12, 23, 58, 3)
    assert items[5].timestamp == datetime(2024, 3, 13, 0, 3, 15)  # 12:03 AM is just after midnight
    assert items[5].text == "Pick up\nI'll keep calling until you do"
    assert all("\r" not in item.text and "\u200e" not in item.text for item in items)
    assert items[7].attachments == ("00000012-PHOTO-2024-03-14-21-15-02.png",)
    assert items[-1].meta["deleted"] == "yes"


def test_zip_export_brings_its_media() -> None:
    result = parse(fixture("WhatsApp Chat - Sam Carter.zip"), "WhatsApp Chat - Sam Carter.zip")
    assert result.format == "whatsapp"
    assert list(result.media) == ["00000012-PHOTO-2024-03-14-21-15-02.png"]
    assert result.media["00000012-PHOTO-2024-03-14-21-15-02.png"].startswith(b"\x89PNG")
    assert result.items[0].conversation == "Sam Carter"
    assert result.warnings == []


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_with_named_chat_and_a_missing_attachment_warns() -> None:
    chat = b"12/03/2024, 09:15 - Sam: IMG-20240312-WA0001.jpg (file attached)\n"
    result = parse(_zip({"WhatsApp Chat with Sam.txt": chat}))
    assert result.items[0].conversation == "Sam"
    assert any("not in the zip" in w for w in result.warnings)


def test_zip_without_a_chat_is_not_whatsapp() -> None:
    data = _zip({"photo.jpg": b"\xff\xd8\xff", "notes.md": b"x"})
    assert detect(data) is None
    with pytest.raises(ParseError, match="does not contain a WhatsApp chat"):
        parse(data)


LINE_VARIANTS = [
    # Android, day-first, 24-hour
    ("25/12/2023, 21:05 - Sam: hi", datetime(2023, 12, 25, 21, 5)),
    # Android US, 12-hour with a narrow no-break space
    ("12/25/23, 9:05\u202fPM - Sam: hi", datetime(2023, 12, 25, 21, 5)),
    # Android, a.m./p.m. (Canada, Spain)
    ("25/12/2023, 9:05 p.\u00a0m. - Sam: hi", datetime(2023, 12, 25, 21, 5)),
    ("25/12/2023, 12:10 a.m. - Sam: hi", datetime(2023, 12, 25, 0, 10)),
    ("25/12/2023, 12:10 pm - Sam: hi", datetime(2023, 12, 25, 12, 10)),
    # German: dots, two-digit year
    ("25.12.23, 21:05 - Sam: hi", datetime(2023, 12, 25, 21, 5)),
    # Dutch: dashes
    ("25-12-2023 21:05 - Sam: hi", datetime(2023, 12, 25, 21, 5)),
    # ISO-like year first (Sweden, Lithuania)
    ("2023-12-25, 21:05 - Sam: hi", datetime(2023, 12, 25, 21, 5)),
    # iOS, day-first 24-hour with seconds; a leading U+200E
    ("\u200e[25/12/2023, 21:05:09] Sam: hi", datetime(2023, 12, 25, 21, 5, 9)),
    # iOS US
    ("[12/25/23, 9:05:09 PM] Sam: hi", datetime(2023, 12, 25, 21, 5, 9)),
    # iOS German
    ("[25.12.23, 21:05:09] Sam: hi", datetime(2023, 12, 25, 21, 5, 9)),
]


@pytest.mark.parametrize(("line", "expected"), LINE_VARIANTS)
def test_locale_variants(line: str, expected: datetime) -> None:
    result = parse((line + "\r\n").encode())
    assert result.format == "whatsapp"
    assert [(i.timestamp, i.sender, i.text) for i in result.items] == [(expected, "Sam", "hi")]


def test_ambiguous_dates_default_to_day_first_with_a_warning() -> None:
    data = b"03/04/2024, 10:00 - Sam: one\n05/04/2024, 10:00 - Sam: two\n"
    result = parse(data)
    assert result.items[0].timestamp == datetime(2024, 4, 3, 10, 0)
    assert any("day-first" in w for w in result.warnings)


def test_ambiguous_dates_follow_time_order_when_it_decides() -> None:
    # Day-first these would run 3 Jan, 3 Feb, 4 Jan (backwards); month-first they run in order.
    data = b"03/01/2024, 10:00 - Sam: a\n03/02/2024, 10:00 - Sam: b\n04/01/2024, 10:00 - Sam: c\n"
    result = parse(data)
    assert [i.timestamp for i in result.items] == [
        datetime(2024, 3, 1, 10, 0),
        datetime(2024, 3, 2, 10, 0),
        datetime(2024, 4, 1, 10, 0),
    ]
    assert any("month-first" in w for w in result.warnings)


def test_a_single_value_above_12_decides_the_whole_file() -> None:
    data = b"01/02/2024, 10:00 - Sam: a\n13/02/2024, 10:00 - Sam: b\n"
    assert [i.timestamp for i in parse(data).items] == [
        datetime(2024, 2, 1, 10, 0),
        datetime(2024, 2, 13, 10, 0),
    ]
    data = b"01/02/2024, 10:00 - Sam: a\n02/13/2024, 10:00 - Sam: b\n"
    assert [i.timestamp for i in parse(data).items] == [
        datetime(2024, 1, 2, 10, 0),
        datetime(2024, 2, 13, 10, 0),
    ]


def test_mixed_locale_lines_in_one_file_are_read_each_on_their_terms_with_a_warning() -> None:
    data = (
        "25/12/2023, 21:05 - Sam: from the Android phone\n"
        "[12/26/23, 9:05:00\u202fAM] Sam: from the iPhone\n"
        "26.12.23, 10:00 - Sam: from a German phone\n"
    ).encode()
    result = parse(data)
    assert [i.timestamp for i in result.items] == [
        datetime(2023, 12, 25, 21, 5),
        datetime(2023, 12, 26, 9, 5),
        datetime(2023, 12, 26, 10, 0),
    ]
    assert any("mixes date formats" in w for w in result.warnings)


def test_day_first_and_month_first_in_the_same_style_are_both_read_with_a_warning() -> None:
    data = b"25/12/2023, 21:05 - Sam: a\n12/26/2023, 09:05 - Sam: b\n"
    result = parse(data)
    assert [i.timestamp for i in result.items] == [
        datetime(2023, 12, 25, 21, 5),
        datetime(2023, 12, 26, 9, 5),
    ]
    assert any("day-first and others month-first" in w for w in result.warnings)


def test_impossible_dates_are_kept_as_text_with_a_warning() -> None:
    data = b"25/12/2023, 21:05 - Sam: a\n31/02/2023, 21:06 - Sam: not a date\n"
    result = parse(data)
    assert len(result.items) == 1
    assert result.items[0].text == "a\n31/02/2023, 21:06 - Sam: not a date"
    assert any("impossible date" in w for w in result.warnings)


def test_broken_utf8_is_read_with_a_warning() -> None:
    data = b"25/12/2023, 21:05 - Sam: caf\xe9 \xff\xfe ok\n"
    result = parse(data)
    assert result.items[0].text == "caf\ufffd \ufffd\ufffd ok"
    assert any("not valid UTF-8" in w for w in result.warnings)


def test_phone_number_senders_are_identifiers() -> None:
    data = "25/12/2023, 21:05 - \u202a+44 7700 900123\u202c: hello\n".encode()
    item = parse(data).items[0]
    assert item.sender == "+44 7700 900123"
    assert item.identifiers == ("+447700900123",)


def test_text_before_the_first_message_is_kept_as_an_undated_note() -> None:
    # Was refused ("does not start with a WhatsApp message line"); now nothing is lost.
    result = parse(b"31/02/2023, 21:06 - Sam: impossible\n25/12/2023, 21:05 - Sam: a\n")
    note, message = result.items
    assert (note.kind, note.timestamp, note.text) == (
        "system",
        None,
        "31/02/2023, 21:06 - Sam: impossible",
    )
    assert message.text == "a"
    assert any("above the first message" in w for w in result.warnings)
    assert any("impossible date" in w for w in result.warnings)


def test_a_long_export_parses_quickly() -> None:
    # The benchmark measures 100,000 messages; this guards against a gross regression.
    lines = [f"{1 + n % 28:02d}/03/2024, 10:{n % 60:02d} - Sam: message {n}" for n in range(10_000)]
    result = parse("\n".join(lines).encode())
    assert len(result.items) == 10_000
