"""Normalise report text for rule matching, keeping a map back to the reporter's own characters.

People who exploit or stalk others write to dodge keyword filters: zero-width characters inside
words, Cyrillic letters that look Latin, `k1ll`, `y o u`. Matching runs on a normalised copy so a
rule written once catches those spellings, and every normalised character remembers which
original characters it came from, so the console highlights the words as the reporter wrote them.

Every step is linear in the text's length: a per-character table (cached), then a few regular
expressions without nested quantifiers. The steps, in order:

1. Per character (a Latin letter together with any combining accents that follow it): Unicode
   NFKC; Cyrillic/Greek look-alikes mapped to Latin; invisible characters (zero-width, soft
   hyphen, bidi controls) removed; curly apostrophes to `'`; any whitespace to one space;
   casefold; accents on Latin letters removed. Devanagari only goes through NFKC.
2. Leetspeak symbols between two letters become letters (`m33t` -> `meet`); `$` before letters
   becomes `s`. Same length, so the offset map does not change.
3. Three or more single letters separated by single spaces or dots are joined (`y o u` -> `you`).
4. Runs of spaces become one space.
"""

# The look-alike letters below are the point of this module.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import re
import unicodedata
from array import array
from dataclasses import dataclass

# U+200B..U+200D zero-width space/non-joiner/joiner, U+2060 word joiner, U+FEFF BOM, soft hyphen,
# the invisible maths operators, and bidi controls that can reorder or hide characters.
_INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

# Look-alikes, mapped before casefolding because upper and lower case look like different
# Latin letters (Cyrillic "Н" looks like "H", Greek "η" like "n").
_HOMOGLYPHS = {
    # Cyrillic
    "А": "A", "а": "a", "В": "B", "в": "b", "Е": "E", "е": "e", "К": "K", "к": "k",
    "М": "M", "м": "m", "Н": "H", "н": "h", "О": "O", "о": "o", "Р": "P", "р": "p",
    "С": "C", "с": "c", "Т": "T", "т": "t", "Х": "X", "х": "x", "У": "Y", "у": "y",
    "І": "I", "і": "i", "Ј": "J", "ј": "j", "Ѕ": "S", "ѕ": "s", "Ԁ": "D", "ԁ": "d",
    "Һ": "H", "һ": "h", "ӏ": "l", "Ӏ": "I", "Ԛ": "Q", "ԛ": "q", "Ԝ": "W", "ԝ": "w",
    # Greek
    "Α": "A", "α": "a", "Β": "B", "Ε": "E", "ε": "e", "Ζ": "Z", "Η": "H", "η": "n",
    "Ι": "I", "ι": "i", "Κ": "K", "κ": "k", "Μ": "M", "Ν": "N", "ν": "v", "Ο": "O",
    "ο": "o", "Ρ": "P", "ρ": "p", "Τ": "T", "τ": "t", "Υ": "Y", "υ": "u", "Χ": "X",
    "χ": "x",
    # Apostrophes, so "don’t" matches "don't".
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
}  # fmt: skip

_LATIN_ACCENTS = re.compile("[\u0300-\u036f]")
# One base character and the Latin combining marks after it, so "e" + U+0301 folds as "é" does.
_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_HAS_COMBINING = re.compile(f"[{_COMBINING}]")
_GROUP = re.compile(f".[{_COMBINING}]*", re.DOTALL)

_LEET = re.compile(r"(?<=[a-z])[013457@$!]+(?=[a-z])|(?<![0-9a-z$])\$(?=[a-z][a-z])")
_LEET_TABLE = str.maketrans("013457@$!", "oieastasi")
_SPACED = re.compile(r"(?<![^\W_])(?:[a-z][ .]){2,}[a-z](?![^\W_])")
_SPACES = re.compile(r"  +")
_ASCII_SPACE = str.maketrans("\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f", "         ")


def _fold(group: str) -> str:
    chars = []
    for c in unicodedata.normalize("NFKC", group):
        if "\ud800" <= c <= "\udfff":  # a lone surrogate cannot be encoded for matching
            chars.append("\ufffd")
            continue
        if c in _INVISIBLE:
            continue
        c = _HOMOGLYPHS.get(c, c)
        chars.append(" " if c.isspace() else c)
    folded = "".join(chars).casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFD", folded)
    if _LATIN_ACCENTS.search(decomposed) is None:
        return folded
    return unicodedata.normalize("NFC", _LATIN_ACCENTS.sub("", decomposed))


class _FoldTable(dict[str, str]):
    def __missing__(self, key: str) -> str:
        value = _fold(key)
        if len(self) < 100_000:  # bounded: random text must not grow the cache without end
            self[key] = value
        return value


_TABLE = _FoldTable()


@dataclass(frozen=True)
class Normalised:
    """The normalised text and, for each of its characters, the original range it came from.

    `starts`/`ends` are None when the mapping is the identity (the common case for plain text),
    which saves two arrays per message in bulk scoring.
    """

    original: str
    text: str
    starts: array[int] | None
    ends: array[int] | None

    def original_range(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised range [start, end) (non-empty) to a range of the original."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def normalise(text: str) -> Normalised:
    if text.isascii():
        folded = text.lower().translate(_ASCII_SPACE)
        starts: array[int] | None = None
        ends: array[int] | None = None
        if len(folded) != len(text):  # pragma: no cover - lower() keeps ASCII length
            raise AssertionError("ASCII lower() changed length")
    else:
        folded, starts, ends = _fold_text(text)
    folded = _LEET.sub(lambda m: m.group().translate(_LEET_TABLE), folded)
    folded, starts, ends = _delete(folded, starts, ends, _spaced_separators(folded))
    folded, starts, ends = _delete(
        folded, starts, ends, [(m.start() + 1, m.end()) for m in _SPACES.finditer(folded)]
    )
    return Normalised(original=text, text=folded, starts=starts, ends=ends)


def _fold_text(text: str) -> tuple[str, array[int] | None, array[int] | None]:
    groups: list[str] | str = _GROUP.findall(text) if _HAS_COMBINING.search(text) else text
    pieces = list(map(_TABLE.__getitem__, groups))
    folded = "".join(pieces)
    if len(pieces) == len(text) and len(folded) == len(text) and all(len(p) == 1 for p in pieces):
        return folded, None, None
    starts: array[int] = array("q")
    ends: array[int] = array("q")
    position = 0
    for group, piece in zip(groups, pieces, strict=True):
        end = position + len(group)
        if len(piece) == 1:
            starts.append(position)
            ends.append(end)
        elif piece:
            starts.extend([position] * len(piece))
            ends.extend([end] * len(piece))
        position = end
    return folded, starts, ends


def _spaced_separators(text: str) -> list[tuple[int, int]]:
    deletions: list[tuple[int, int]] = []
    for match in _SPACED.finditer(text):
        deletions.extend((i, i + 1) for i in range(match.start() + 1, match.end(), 2))
    return deletions


def _delete(
    text: str,
    starts: array[int] | None,
    ends: array[int] | None,
    deletions: list[tuple[int, int]],
) -> tuple[str, array[int] | None, array[int] | None]:
    """Remove the sorted, disjoint ranges `deletions` from text and from the offset map."""
    if not deletions:
        return text, starts, ends
    if starts is None or ends is None:
        starts = array("q", range(len(text)))
        ends = array("q", range(1, len(text) + 1))
    kept_text: list[str] = []
    new_starts: array[int] = array("q")
    new_ends: array[int] = array("q")
    previous = 0
    for start, end in [*deletions, (len(text), len(text))]:
        kept_text.append(text[previous:start])
        new_starts.extend(starts[previous:start])
        new_ends.extend(ends[previous:start])
        previous = end
    return "".join(kept_text), new_starts, new_ends
