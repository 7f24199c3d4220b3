"""Every WhatsApp shape we know of reads back to the same messages (issue 13).

Before issue 13 most of these files were refused as "We do not recognise this file". The
files are in tests/locker/fixtures/whatsapp/, written by `variants.py` beside them.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest

from tipline.locker.parsers import detect, parse
from tipline.locker.parsers.whatsapp_lines import to_date
from tipline.locker.types import ParseError

HERE = Path(__file__).resolve().parent.parent / "fixtures" / "whatsapp"


def _variants() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wa_variants", HERE / "variants.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


V = _variants()


@pytest.mark.parametrize("variant", V.VARIANTS, ids=lambda v: v.name)
def test_variant_file_is_recognised_and_read(variant: object) -> None:
    path = HERE / f"{variant.name}.txt"  # type: ignore[attr-defined]
    data = path.read_bytes()
    assert data.decode("utf-8") == V.render(variant), "regenerate with variants.py"
    assert detect(data, "chat.txt") == "whatsapp"
    assert detect(data) == "whatsapp"
    result = parse(data, "WhatsApp Chat with Sam Carter.txt")
    messages = [i for i in result.items if i.timestamp is not None]
    assert [(i.timestamp, i.sender, i.text) for i in messages] == V.expected(variant)
    assert all(i.conversation == "Sam Carter" for i in result.items)
    if variant.title:  # type: ignore[attr-defined]
        note = result.items[0]
        assert (note.kind, note.timestamp) == ("system", None)
        assert note.text == variant.title.strip()  # type: ignore[attr-defined]
        assert any("above the first message" in w for w in result.warnings)
    else:
        assert len(result.items) == len(messages)


def test_other_calendars_match_published_tables() -> None:
    # Nowruz (1 Farvardin) from Iran's official calendar; 1 Ramadan 1445 in Umm al-Qura.
    assert to_date("1403", "1", "1", None, "ymd") == (date(2024, 3, 20), "persian")
    assert to_date("1402", "1", "1", None, "ymd") == (date(2023, 3, 21), "persian")
    assert to_date("1404", "1", "1", None, "ymd") == (date(2025, 3, 21), "persian")
    assert to_date("1399", "12", "30", None, "ymd") == (date(2021, 3, 20), "persian")
    assert to_date("1402", "12", "30", None, "ymd") is None  # 1402 was not a leap year
    assert to_date("1", "9", "1445", None, "dmy") == (date(2024, 3, 11), "hijri")
    assert to_date("3", "18", "2565", "BE", "mdy") == (date(2022, 3, 18), "buddhist")
    assert to_date("3", "18", "R4", None, "mdy") == (date(2022, 3, 18), "japanese")
    assert to_date("30", "4", "H31", None, "dmy") == (date(2019, 4, 30), "japanese")


def test_converted_calendars_are_said_in_a_warning() -> None:
    result = parse((HERE / "ios_ar_hijri.txt").read_bytes())
    assert any("Hijri" in w for w in result.warnings)
    result = parse((HERE / "ios_th_buddhist.txt").read_bytes())
    assert any("Buddhist" in w for w in result.warnings)


def test_detection_is_by_share_not_by_the_first_line() -> None:
    body = (HERE / "android_en_gb.txt").read_text(encoding="utf-8")
    titled = "Chat export\nSaved for the police\n\n" + body
    assert detect(titled.encode()) == "whatsapp"
    # A document that merely quotes one chat line among many lines of prose is not a chat.
    prose = "\n".join(f"Paragraph {n} of my statement about what happened." for n in range(40))
    assert detect((prose + "\n" + body.splitlines()[0] + "\n").encode()) is None


def test_a_line_that_looks_like_a_start_but_is_not_read_is_kept_with_a_warning() -> None:
    data = (
        b"12/03/2024, 21:05 - Sam: first\n"
        b"12/03/2024 at 9 - Sam: a shape no phone writes\n"
        b"12/03/2024, 21:06 - Sam: second\n"
    )
    result = parse(data)
    assert [i.text for i in result.items] == [
        "first\n12/03/2024 at 9 - Sam: a shape no phone writes",
        "second",
    ]
    assert any("could not be read (first at line 2)" in w for w in result.warnings)


def test_rare_closers_count_only_when_they_are_the_files_usual_shape() -> None:
    # In an ordinary Android export, a continuation line that happens to read like the old
    # bare shape stays text of the message above.
    data = (
        b"12/03/2024, 21:05 - Sam: meeting notes\n"
        b"13. 3. 2024. 10:00:00 team: yes\n"
        b"12/03/2024, 21:06 - Sam: second\n"
    )
    result = parse(data)
    assert [i.text for i in result.items] == [
        "meeting notes\n13. 3. 2024. 10:00:00 team: yes",
        "second",
    ]


def test_an_unknown_clock_word_is_not_read_as_a_24_hour_time() -> None:
    # "9:05 XM" must not silently become 09:05: the line is not a message line at all.
    with pytest.raises(ParseError, match=r"recognise|No WhatsApp messages"):
        parse(b"12/03/2024, 9:05 XM - Sam: hi\n")


def test_a_year_first_date_ending_in_an_era_is_refused_not_a_crash() -> None:
    # Regression (benchmarks/evidence_fuzz.py): int("H31") raised ValueError.
    assert to_date("2024", "3", "H31", None, "ymd") is None
    with pytest.raises(ParseError):
        parse(b"2024/3/H31, 10:00 - Sam: hi\n")
