"""The first line of a WhatsApp message, in every shape the app has written it, and its time.

WhatsApp writes each message as "<date>, <time> - <sender>: <text>" (Android) or
"[<date>, <time>] <sender>: <text>" (iOS), in the phone's own date and time format, and a line
that does not start that way continues the message above. What varies, as seen in real exports
and documented by public parsers' test files (see docs/architecture.md, "Evidence locker"):

- date order d/m/y, m/d/y or y/m/d, with `/`, `.` or `-`, with or without spaces after the
  separator and a trailing dot ("13. 6. 2018.", "2023. 3. 12."), two- or four-digit years;
- digits in any script Python reads as decimal digits (Arabic-Indic, Persian, Devanagari,
  full-width), with right-to-left and left-to-right marks anywhere in the line;
- calendars: Gregorian, Thai Buddhist era ("2567", "3/18/2565 BE"), Japanese era ("3/18/R4"),
  Persian solar Hijri ("1402/12/23") and Islamic Hijri ("14/09/1445 هـ");
- separators: ",", the Arabic comma "،", a space, or a word ("klo" in Finnish);
- clocks: 24-hour or 12-hour, with seconds or not, ":" or "." or a full-width colon, and the
  12-hour word before or after the time, in many languages ("a. m.", "午後", "上午", "오후",
  "अपराह्न", "م"), after a normal, no-break (U+00A0) or narrow no-break space (U+202F);
- the time before the date ("[21:05, 25/12/2023]", copied from WhatsApp Web);
- closers: "] " (iOS), " - " or the same with an en dash (Android), and two rare older
  shapes, ": " and a bare space, which are only believed when they are the file's usual
  shape (see `read_lines`).

Pure and Django-free: `whatsapp.py` turns these into items.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from hijridate import Hijri  # Umm al-Qura tables: the Hijri calendar iPhones in Arabic use

from tipline.locker.parsers.i18n import _

MARKS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_SP = "[ \u00a0\u202f\u2009]"
STRIP_MARKS = str.maketrans("", "", MARKS)

# The words phones write beside a 12-hour time (CLDR day periods of the languages WhatsApp
# ships in). Dots and spaces are optional when matching; case is ignored.
_MORNING = (
    "am", "a.m.", "a. m.", "vorm.", "vm.", "fm", "ap.", "de.", "dop.", "sa", "pg", "πμ",
    "π.μ.", "öö", "午前", "上午", "오전", "ص", "ق.ظ", "قبل دوپہر", "पूर्वाह्न", "पू.", "म.पू.",
    "পূর্বাহ্ণ", "முற்பகல்", "ಪೂರ್ವಾಹ್ನ", "ก่อนเที่ยง", "ཆ",
)  # fmt: skip
_EVENING = (
    "pm", "p.m.", "p. m.", "nachm.", "nm.", "em", "ip.", "du.", "odp.", "ch", "ptg", "μμ",
    "μ.μ.", "ös", "午後", "下午", "오후", "م", "ب.ظ", "بعد دوپہر", "अपराह्न", "अ.", "म.उ.",
    "অপরাহ্ণ", "பிற்பகல்", "ಅಪರಾಹ್ನ", "หลังเที่ยง",
)  # fmt: skip


def _word_key(word: str) -> str:
    return re.sub(r"[.\s\u00a0\u202f\u2009]", "", word).casefold()


EVENING_KEYS = frozenset(_word_key(w) for w in _EVENING)
_MORNING_KEYS = frozenset(_word_key(w) for w in _MORNING) - {"ཆ"}
CLOCK_KEYS = EVENING_KEYS | _MORNING_KEYS


def _word_pattern(word: str) -> str:
    parts = []
    for char in word:
        if char == ".":
            parts.append(r"\.?")
        elif char == " ":
            parts.append(f"{_SP}?")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


_CLOCK = "|".join(
    _word_pattern(w) for w in sorted(set(_MORNING + _EVENING) - {"ཆ"}, key=len, reverse=True)
)
_M = f"[{MARKS}]*"
_DATE = (
    r"(?P<a>\d{1,4})(?P<sep>[./\-])" + _SP + r"?(?P<b>\d{1,2})(?P=sep)" + _SP
    + r"?(?P<c>\d{1,4}|[RHrh]\d{1,2})(?P=sep)?"
    + f"(?:{_SP}?(?P<era>BE|B\\.E\\.|พ\\.ศ\\.|\u0647\u0640|\u0647\\.\u0634\\.|AH|AP))?"
)  # fmt: skip
_TIME = (
    f"(?:(?P<ap1>{_CLOCK}){_SP}?)?"
    r"(?P<H>\d{1,2})[:.\uff1a](?P<M>\d{2})(?:[:.\uff1a](?P<S>\d{2}))?\.?"
    f"(?:{_SP}*{_M}(?P<ap2>{_CLOCK})(?![^\\W\\d_]))?"
)
_BETWEEN = f"{_M}(?:[,،]{_SP}*|{_SP}+){_M}"
_CLOSE = (
    f"{_M}(?:(?P<close>\\])[ {MARKS}]*|{_SP}?[-\u2013]{_SP}"
    f"|(?P<colon>[:\uff1a]){_SP}|(?P<bare>{_SP}))(?P<rest>.*)"
)
DATE_FIRST = re.compile(
    f"{_M}(?P<br>\\[)?{_M}{_DATE}{_BETWEEN}(?:(?:klo|kl\\.|à|um|ساعت){_SP}+)?{_TIME}{_CLOSE}",
    re.DOTALL | re.IGNORECASE,
)
TIME_FIRST = re.compile(
    f"{_M}(?P<br>\\[)?{_M}{_TIME}{_BETWEEN}{_DATE}{_CLOSE}", re.DOTALL | re.IGNORECASE
)
HAS_MARK = re.compile(f"[{MARKS}]")
# A line that starts like a date but was not read: worth a warning, not silence.
NEAR_MISS = re.compile(f"{_M}\\[?{_M}\\d{{1,4}}[./\\-]{_SP}?\\d{{1,2}}[./\\-]")

# Style of a line: (bracket, closer, date separator, 12-hour, time first). Dates are read per
# style, because one file can hold lines written under different phone settings.
Style = tuple[bool, str, str, bool, bool]
_WEAK = (":", " ")


@dataclass(slots=True)
class Head:
    index: int
    match: re.Match[str]
    style: Style


def match_line(line: str) -> re.Match[str] | None:
    """The line read as a message's first line, or None. Marks are retried without."""
    found = DATE_FIRST.match(line) or TIME_FIRST.match(line)
    if found is None and HAS_MARK.search(line):
        bare = line.translate(STRIP_MARKS)
        found = DATE_FIRST.match(bare) or TIME_FIRST.match(bare)
    if found is None or bool(found["br"]) != bool(found["close"]):
        return None
    if found["bare"] is not None and (found["S"] is None or found["rest"][:1] in "-\u2013"):
        return None  # "21:25 XM - Sam": an unknown clock word, not a bare closer
    return found


def style_of(found: re.Match[str]) -> Style:
    br, close, colon, bare, sep, ap1, ap2 = found.group(
        "br", "close", "colon", "bare", "sep", "ap1", "ap2"
    )
    closer = "]" if close else ":" if colon else " " if bare else "-"
    first = found.re is TIME_FIRST
    return (br is not None, closer, sep, ap1 is not None or ap2 is not None, first)


def read_lines(lines: list[str]) -> tuple[list[Head], int]:
    """The message lines, and how many lines of a rare shape were left as text.

    The ": " and bare-space closers could be ordinary text ("12.3.2024 10:00 meeting: yes"),
    so they count only when they are the file's most common shape.
    """
    heads: list[Head] = []
    fast, slow, style = DATE_FIRST.match, match_line, style_of
    for index, line in enumerate(lines):
        # Continuation text mostly starts with a letter; no message line does.
        if not line or line[0].isalpha():
            continue
        # The common Android and iOS lines are settled by one match; the rest take the long way.
        found = fast(line)
        if (
            found is None
            or found["bare"] is not None
            or (found["br"] is None) != (found["close"] is None)
        ):
            found = slow(line)
        if found is not None:
            heads.append(Head(index, found, style(found)))
    counts = Counter(head.style for head in heads)
    if not counts:
        return heads, 0
    usual = counts.most_common(1)[0][0]
    kept = [h for h in heads if h.style[1] not in _WEAK or h.style == usual]
    return kept, len(heads) - len(kept)


def share(lines: list[str]) -> float:
    """Which share of the non-blank lines are message lines (for recognising a file)."""
    filled = [line for line in lines if line.strip(" \t" + MARKS)]
    if not filled:
        return 0.0
    heads, _weak = read_lines(filled)
    return len(heads) / len(filled)


# --- dates ---------------------------------------------------------------------------------

# Orders: "ymd", "dmy", "mdy", or "either" (the values prove both orders: mixed locales).


def decide_order(matches: list[re.Match[str]], warnings: list[str]) -> str:
    if all(len(m["a"]) >= 3 for m in matches):
        return "ymd"
    day_first = any(int(m["a"]) > 12 for m in matches)
    month_first = any(int(m["b"]) > 12 for m in matches)
    if day_first and month_first:
        warnings.append(
            _(
                "Some dates are written day-first and others month-first in the same style; "
                "each was read the way its values allow. Check the dates against the phone."
            )
        )
        return "either"
    if day_first or month_first:
        return "dmy" if day_first else "mdy"
    dmy = _inversions(matches, "dmy")
    mdy = _inversions(matches, "mdy")
    if mdy < dmy:
        warnings.append(
            _(
                "The dates could be read either day-first or month-first; they were read "
                "month-first because that keeps the messages in time order."
            )
        )
        return "mdy"
    if dmy < mdy:
        return "dmy"
    if any(int(m["a"]) != int(m["b"]) for m in matches):
        warnings.append(
            _(
                "The dates could be read either day-first or month-first; they were read "
                "day-first. Check one date against the phone."
            )
        )
    return "dmy"


def _inversions(matches: list[re.Match[str]], order: str) -> int:
    """How often a message would be dated before the one above it, read in `order`."""
    count = 0
    previous: tuple[int, int, int] | None = None
    for m in matches:
        year, a, b = _year_number(m["c"]), int(m["a"]), int(m["b"])
        key = (year, b, a) if order == "dmy" else (year, a, b)
        if previous is not None and key < previous:
            count += 1
        previous = key
    return count


def _year_number(text: str) -> int:
    return int(text[1:]) if text[:1] in "RHrh" else int(text)


Calendar = str  # "gregorian", "buddhist", "japanese", "persian", "hijri"
CALENDAR_NOTES = {
    "buddhist": "Buddhist era (Thai) years",
    "japanese": "Japanese era years (Heisei, Reiwa)",
    "persian": "Persian (solar Hijri) dates",
    "hijri": "Islamic (Hijri, Umm al-Qura) dates",
}
HIJRI_ERA = "\u0647\u0640"  # the letter heh and a tatweel: "AH" in Arabic
PERSIAN_ERA = "\u0647.\u0634."  # "solar Hijri" in Persian
_ERA_START = {"h": 1989, "r": 2019}  # Heisei 1 = 1989, Reiwa 1 = 2019


@lru_cache(maxsize=4096)
def to_date(a: str, b: str, c: str, era: str | None, order: str) -> tuple[date, Calendar] | None:
    """The Gregorian date and the calendar it was written in; None when impossible."""
    if len(a) >= 3:
        if not c.isdigit():
            return None  # "2024/3/H31": a year first and an era last (found by fuzzing)
        year_text, month, day = a, int(b), int(c)
    elif order == "mdy" or (order == "either" and int(b) > 12):
        month, day, year_text = int(a), int(b), c
    else:
        day, month, year_text = int(a), int(b), c
    if year_text[:1] in "RHrh":
        if len(a) >= 3:
            return None
        year = _ERA_START[year_text[0].lower()] + int(year_text[1:]) - 1
        return _gregorian(year, month, day, "japanese")
    if len(year_text) == 3:
        return None
    year = int(year_text)
    buddhist = era is not None and era.upper().replace(".", "") in ("BE", "พศ")
    if len(year_text) <= 2:
        year += 2500 if buddhist else 2000
    if buddhist or 2500 <= year <= 2700:
        return _gregorian(year - 543, month, day, "buddhist")
    if era in (HIJRI_ERA, "AH") or 1429 <= year <= 1500:
        return _hijri(year, month, day)
    if era in (PERSIAN_ERA, "AP") or 1380 <= year <= 1428:
        return _persian(year, month, day)
    return _gregorian(year, month, day, "gregorian")


def _gregorian(year: int, month: int, day: int, calendar: Calendar) -> tuple[date, Calendar] | None:
    try:
        return date(year, month, day), calendar
    except ValueError:
        return None


def _hijri(year: int, month: int, day: int) -> tuple[date, Calendar] | None:
    try:
        on = Hijri(year, month, day).to_gregorian()
        return date(on.year, on.month, on.day), "hijri"
    except (ValueError, OverflowError):
        return None


def persian_leap(year: int) -> bool:
    """The 33-year rule; it agrees with Iran's astronomical calendar for 1178-1634 SH."""
    return (25 * year + 11) % 33 < 8


def _persian(year: int, month: int, day: int) -> tuple[date, Calendar] | None:
    if not 1 <= month <= 12 or day < 1:
        return None
    days_in_month = 31 if month <= 6 else 30 if month <= 11 else 30 if persian_leap(year) else 29
    if day > days_in_month:
        return None
    # 1 Farvardin 1403 was 20 March 2024; count the years' lengths from there.
    start = date(2024, 3, 20)
    for y in range(1403, year):
        start += timedelta(days=366 if persian_leap(y) else 365)
    for y in range(year, 1403):
        start -= timedelta(days=366 if persian_leap(y) else 365)
    offset = (month - 1) * 31 if month <= 7 else 186 + (month - 7) * 30
    return start + timedelta(days=offset + day - 1), "persian"


def to_time(found: re.Match[str]) -> tuple[int, int, int] | None:
    hour, minute = int(found["H"]), int(found["M"])
    second = int(found["S"]) if found["S"] else 0
    word = found["ap1"] or found["ap2"]
    if word:
        if not 0 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if _word_key(word) in EVENING_KEYS else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


def timestamp(found: re.Match[str], order: str) -> tuple[datetime, Calendar] | None:
    day = to_date(found["a"], found["b"], found["c"], found["era"], order)
    clock = to_time(found)
    if day is None or clock is None:
        return None
    on, calendar = day
    return datetime(on.year, on.month, on.day, *clock), calendar
