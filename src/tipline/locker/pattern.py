"""The pattern in a locker: one timeline across sources, the other party's accounts grouped,
counts per day and per ISO week, and escalation markers that carry the words that set them off.

Pure functions over a `Snapshot`; the timeline page and the PDF both read `analyse()`.

Ordering rule (a court will ask, so it is fixed and tested):

1. Items with a time come first, in the order of the instant they happened. An aware timestamp
   (e-mail, Telegram, SMS, Meta) is an instant. A naive one (WhatsApp writes the phone's wall
   clock without an offset) is read as that wall-clock time in `naive_zone`: the zone the
   victim says the phone was set to, UTC when nobody said. Naive times are never shifted for
   display; the PDF prints them as written and says that no offset was known.
2. Items at the same instant keep import order (the order of `Snapshot.entries`).
3. Items without a time go last, in import order.

Days and weeks are counted in `naive_zone` as well, so a naive item counts on the date written
on the phone and an aware one on the date it was in that zone.

A "person" is every sender name and identifier that occur together on one item, joined across
items (union-find), plus everything the victim marked in `Snapshot.responsible`, which is
merged into one person. Display names are joined too: two accounts both shown as "Alex" are
taken as one person; the page lists every name and identifier so the victim can see why.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal

import re2
import yaml

from tipline.locker.parsers.i18n import _ as gettext
from tipline.locker.parsers.i18n import in_language
from tipline.locker.types import Snapshot, TimelineEntry
from tipline.triage import engine
from tipline.triage.normalise import normalise
from tipline.triage.rules import FAMILIES, RE2_OPTIONS, phrase_pattern
from tipline.triage.types import Span

MARKERS_FILE = Path(__file__).resolve().parent / "data" / "markers.yaml"
# A week is "rising" when it has at least this many messages and at least FACTOR times the
# average of the up to WINDOW weeks before it (weeks without messages count as 0).
MIN_WEEK_MESSAGES = 10
RISING_FACTOR = 2.0
RISING_WINDOW = 4
# Days without items are listed (as 0) only when the first and last day are closer than this.
MAX_FILLED_DAYS = 366 * 30

MarkerKind = Literal["frequency", "threat", "location", "presence", "family"]
_TEXT_KINDS: tuple[MarkerKind, ...] = ("threat", "location", "presence", "family")
# Word boundaries as the triage rules use them: a phrase never matches inside a longer word.
_WORD = r"\p{L}\p{M}\p{N}_"
_PHONE = re.compile(r"\+?[\d\s().\-]{6,}")


@dataclass(frozen=True, slots=True)
class Person:
    names: tuple[str, ...]  # sender names as first written, in import order
    identifiers: tuple[str, ...]  # phone numbers, addresses, handles, as first written
    keys: frozenset[str]  # comparison forms of all of the above (see `identity`)
    item_count: int
    responsible: bool


@dataclass(frozen=True, slots=True)
class Marker:
    kind: MarkerKind
    label: str  # "First threat"
    entry: TimelineEntry
    day: date
    reason: str  # why, in plain words
    rule: str  # triage rule id, "markers.<kind>" for a phrase from markers.yaml, or "frequency"
    span: Span | None  # the sender's own words that set it off (None for frequency)


@dataclass(frozen=True, slots=True)
class Pattern:
    timeline: list[TimelineEntry]  # every entry, in the ordering rule's order
    people: list[Person]  # the responsible person first, then by number of items
    responsible: Person | None
    # What counts and markers are computed over: the responsible person's items when someone
    # is marked, otherwise every item that is not a system line.
    focus: list[TimelineEntry]
    per_day: list[tuple[date, int]]  # every day from the first to the last, zeros included
    per_week: list[tuple[date, int]]  # Monday of each ISO week, zeros included
    markers: list[Marker]  # in timeline order
    naive_zone: tzinfo


# --- ordering ------------------------------------------------------------------------------


def instant(timestamp: datetime, naive_zone: tzinfo = UTC) -> datetime:
    """The moment a timestamp stands for, in UTC (a naive one read in `naive_zone`)."""
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        timestamp = timestamp.replace(tzinfo=naive_zone)
    try:
        return timestamp.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 shifted past the calendar's end
        return timestamp.replace(tzinfo=UTC)


def local_day(timestamp: datetime, naive_zone: tzinfo = UTC) -> date:
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        return timestamp.date()
    try:
        return timestamp.astimezone(naive_zone).date()
    except (OverflowError, ValueError):
        return timestamp.date()


def timeline(entries: Sequence[TimelineEntry], naive_zone: tzinfo = UTC) -> list[TimelineEntry]:
    """Entries in the module's ordering rule (stable, so equal instants keep import order)."""
    timed = [e for e in entries if e.item.timestamp is not None]
    untimed = [e for e in entries if e.item.timestamp is None]
    timed.sort(key=lambda e: instant(e.item.timestamp, naive_zone))  # type: ignore[arg-type]
    return timed + untimed


def time_as_written(timestamp: datetime | None) -> str:
    """'2026-01-03 14:05:00 +01:00' when the offset is known, '… (local, no offset)' if not."""
    if timestamp is None:
        return gettext("no time")
    written = timestamp.strftime("%Y-%m-%d %H:%M:%S")
    if timestamp.tzinfo is None or timestamp.utcoffset() is None:
        return gettext("%(time)s (phone time, offset unknown)") % {"time": written}
    offset = timestamp.isoformat()[19:].lstrip(".0123456789") or "+00:00"
    return f"{written} {offset}"


# --- people --------------------------------------------------------------------------------


def identity(value: str) -> str:
    """The comparison form of a name or identifier.

    Case, Unicode width and spacing are ignored; a phone number keeps only '+' and digits so
    '+44 7700 900123' meets '+447700900123'; a handle's leading '@' is dropped.
    """
    folded = " ".join(unicodedata.normalize("NFKC", value).split()).casefold()
    if _PHONE.fullmatch(folded) and sum(c.isdigit() for c in folded) >= 6:
        return "".join(c for c in folded if c.isdigit() or c == "+")
    if folded.startswith("@") and folded.count("@") == 1:
        return folded[1:]
    return folded


def people(snapshot: Snapshot) -> list[Person]:
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        root = key
        while parent[root] != root:
            root = parent[root]
        while parent[key] != root:  # path compression keeps the join linear in practice
            parent[key], key = root, parent[key]
        return root

    def union(keys: Iterable[str]) -> None:
        roots = [find(parent.setdefault(k, k)) for k in keys]
        for other in roots[1:]:
            parent[find(other)] = find(roots[0])

    written: dict[str, tuple[str, bool]] = {}  # key -> (first spelling, is a name)
    counts: dict[str, int] = {}
    for entry in snapshot.entries:
        item = entry.item
        if item.kind == "system":
            continue
        keys = item_keys(entry)
        if not keys:
            continue
        for value, is_name in [(item.sender, True)] + [(i, False) for i in item.identifiers]:
            key = identity(value)
            if key:
                written.setdefault(key, (value.strip(), is_name))
        union(keys)
        counts[keys[0]] = counts.get(keys[0], 0) + 1
    marked = [k for k in (identity(v) for v in snapshot.responsible) if k]
    for value in snapshot.responsible:
        if identity(value):
            written.setdefault(identity(value), (value.strip(), False))
    if marked:
        union(marked)
    groups: dict[str, list[str]] = {}
    for key in parent:  # dicts keep insertion order: first appearance first
        groups.setdefault(find(key), []).append(key)
    responsible_root = find(marked[0]) if marked else None
    found = []
    for root, keys in groups.items():
        found.append(
            Person(
                names=tuple(written[k][0] for k in keys if written[k][1]),
                identifiers=tuple(written[k][0] for k in keys if not written[k][1]),
                keys=frozenset(keys),
                item_count=sum(counts.get(k, 0) for k in keys),
                responsible=root == responsible_root,
            )
        )
    found.sort(key=lambda p: (not p.responsible, -p.item_count))
    return found


def from_person(entries: Iterable[TimelineEntry], person: Person) -> list[TimelineEntry]:
    """The entries (system lines excepted) whose sender or an identifier belongs to `person`."""
    return [
        e for e in entries if e.item.kind != "system" and not person.keys.isdisjoint(item_keys(e))
    ]


def item_keys(entry: TimelineEntry) -> list[str]:
    values = [entry.item.sender, *entry.item.identifiers]
    return [k for k in (identity(v) for v in values) if k]


# --- counts --------------------------------------------------------------------------------


def counts_per_day(
    entries: Iterable[TimelineEntry], naive_zone: tzinfo = UTC
) -> list[tuple[date, int]]:
    found: dict[date, int] = {}
    for entry in entries:
        if entry.item.timestamp is not None and entry.item.kind != "system":
            day = local_day(entry.item.timestamp, naive_zone)
            found[day] = found.get(day, 0) + 1
    if not found:
        return []
    first, last = min(found), max(found)
    if (last - first).days >= MAX_FILLED_DAYS:
        # A clock set to 1970 or a bogus year would otherwise make millions of empty days;
        # past this span only the days with items are listed (bounded by the item count).
        return sorted(found.items())
    return [
        (first + timedelta(days=n), found.get(first + timedelta(days=n), 0))
        for n in range((last - first).days + 1)
    ]


def counts_per_week(per_day: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """Per ISO week (keyed by its Monday), from per-day counts; weeks without items count 0."""
    found: dict[date, int] = {}
    for day, count in per_day:
        monday = day - timedelta(days=day.weekday())
        found[monday] = found.get(monday, 0) + count
    return sorted(found.items())


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


# --- markers -------------------------------------------------------------------------------


def rising_weeks(
    per_week: Sequence[tuple[date, int]],
    *,
    min_count: int = MIN_WEEK_MESSAGES,
    factor: float = RISING_FACTOR,
    window: int = RISING_WINDOW,
) -> list[tuple[date, int, float]]:
    """Weeks with at least `min_count` items and `factor` x the average of the weeks before.

    The first week has nothing before it and is never rising. Returns (monday, count, average).
    """
    found = []
    for index in range(1, len(per_week)):
        before = [count for _, count in per_week[max(0, index - window) : index]]
        average = sum(before) / len(before)
        monday, count = per_week[index]
        if count >= min_count and count >= factor * average:
            found.append((monday, count, average))
    return found


def markers(
    focus: Sequence[TimelineEntry],
    per_week: Sequence[tuple[date, int]],
    naive_zone: tzinfo = UTC,
    *,
    min_count: int = MIN_WEEK_MESSAGES,
) -> list[Marker]:
    """Rising weeks, then the first threat, location and family mention, in timeline order."""
    kinds = _marker_kinds()
    found: list[Marker] = []
    by_week: dict[date, TimelineEntry] = {}
    for entry in focus:
        if entry.item.timestamp is not None:
            day = local_day(entry.item.timestamp, naive_zone)
            by_week.setdefault(day - timedelta(days=day.weekday()), entry)
    for monday, count, average in rising_weeks(per_week, min_count=min_count):
        weeks_before = min(RISING_WINDOW, per_week.index((monday, count)))
        reason = gettext(
            "%(count)s messages in the week of %(day)s (%(week)s): at least %(factor)s times "
            "the average of %(average)s a week in the %(weeks)s week(s) before."
        ) % {
            "count": count,
            "day": monday.isoformat(),
            "week": week_label(monday),
            "factor": f"{RISING_FACTOR:g}",
            "average": f"{average:.1f}",
            "weeks": weeks_before,
        }
        entry = by_week[monday]
        label = gettext("Rising frequency")
        found.append(Marker("frequency", label, entry, monday, reason, "frequency", None))
    missing = set(_TEXT_KINDS)
    families = _rule_families()
    for entry in focus:
        if not missing:
            break
        if entry.item.kind == "system" or not entry.item.text:
            continue
        hits = _text_hits(entry.item.text, missing, kinds, families)
        for kind, rule, reason, span in hits:
            missing.discard(kind)
            day = local_day(entry.item.timestamp, naive_zone) if entry.item.timestamp else date.min
            label = in_language(kinds[kind]["label"])
            found.append(Marker(kind, label, entry, day, reason, rule, span))
    order = {id(e): n for n, e in enumerate(focus)}
    found.sort(key=lambda m: order.get(id(m.entry), len(order)))
    return found


def _text_hits(
    text: str, wanted: set[MarkerKind], kinds: dict[str, dict[str, Any]], families: dict[str, str]
) -> list[tuple[MarkerKind, str, str, Span]]:
    hits: list[tuple[MarkerKind, str, str, Span]] = []
    reasons = [r for r in engine.score(text).reasons if r.span is not None]
    for kind in _TEXT_KINDS:
        if kind not in wanted:
            continue
        spec = kinds[kind]
        rule_hit = next((r for r in reasons if families.get(r.rule) in spec["families"]), None)
        if rule_hit is not None and rule_hit.span is not None:
            hits.append((kind, rule_hit.rule, engine.describe(rule_hit.rule), rule_hit.span))
            continue
        span = _phrase_span(spec["matcher"], text, spec["unless"])
        if span is not None:
            hits.append((kind, f"markers.{kind}", in_language(spec["description"]), span))
    return hits


def _phrase_span(matcher: Any, text: str, unless: Any = None) -> Span | None:
    if matcher is None:
        return None
    norm = normalise(text)
    data = norm.text.encode()
    searched = data
    if unless is not None:
        # Idioms are blanked out (same length, so offsets hold) before the phrases are sought.
        blanked = bytearray(data)
        for found in unless.finditer(data):
            start, end = found.span(1)
            blanked[start:end] = b" " * (end - start)
        searched = bytes(blanked)
    match = matcher.search(searched)
    if match is None:
        return None
    start, end = match.span(1)
    if len(data) != len(norm.text):  # non-ASCII: byte offsets differ from character offsets
        start, end = len(data[:start].decode()), len(data[:end].decode())
    first, last = norm.original_range(start, end)
    return Span(first, last, text[first:last])


@functools.cache
def _rule_families() -> dict[str, str]:
    return {rule.id: rule.family for rule in engine.load().ruleset.rules}


@functools.cache
def _marker_kinds() -> dict[str, dict[str, Any]]:
    """markers.yaml, checked: a mistake stops the timeline with the file's name, not silently."""
    document = yaml.safe_load(MARKERS_FILE.read_bytes())
    if not isinstance(document, dict) or set(document) != {"version", "kinds"}:
        raise ValueError(f"{MARKERS_FILE}: needs exactly 'version' and 'kinds'")
    kinds = document["kinds"]
    if not isinstance(kinds, dict) or set(kinds) != set(_TEXT_KINDS):
        raise ValueError(f"{MARKERS_FILE}: kinds must be exactly {', '.join(_TEXT_KINDS)}")
    loaded: dict[str, dict[str, Any]] = {}
    for kind, spec in kinds.items():
        if not isinstance(spec, dict) or _texts(spec.get("label")) is None:
            raise ValueError(f"{MARKERS_FILE}: {kind} needs a label (text or {{en: ..., fr: ...}})")
        description = _texts(spec.get("description", spec["label"]))
        if description is None:
            raise ValueError(f"{MARKERS_FILE}: {kind}: description must be text or by language")
        if not set(spec) <= {"label", "description", "families", "phrases", "unless"}:
            raise ValueError(f"{MARKERS_FILE}: {kind}: unknown key")
        if not set(spec.get("families") or ()) <= set(FAMILIES):
            raise ValueError(f"{MARKERS_FILE}: {kind}: unknown triage family")
        phrases = spec.get("phrases") or {}
        words = [p for language in phrases.values() for p in language]
        if not all(isinstance(p, str) and p.strip() for p in words):
            raise ValueError(f"{MARKERS_FILE}: {kind}: every phrase must be text")
        idioms = [p for language in (spec.get("unless") or {}).values() for p in language]
        if not all(isinstance(p, str) and p.strip() for p in idioms):
            raise ValueError(f"{MARKERS_FILE}: {kind}: every 'unless' idiom must be text")
        loaded[kind] = {
            "label": _texts(spec["label"]),
            "families": tuple(spec.get("families") or ()),
            "description": description,
            "matcher": _phrases_matcher(words),
            "unless": _phrases_matcher(idioms),
        }
    return loaded


def _phrases_matcher(words: list[str]) -> Any:
    if not words:
        return None
    alternatives = sorted({phrase_pattern(p) for p in words}, key=len, reverse=True)
    pattern = f"(?:^|[^{_WORD}])({'|'.join(alternatives)})(?:[^{_WORD}]|$)"
    return re2.compile(pattern.encode(), RE2_OPTIONS)


def _texts(value: Any) -> dict[str, str] | None:
    """Plain text (English only) or a `{en: ..., fr: ..., hi: ...}` map with English in it."""
    if isinstance(value, str):
        value = {"en": value}
    if not isinstance(value, dict) or not isinstance(value.get("en"), str):
        return None
    if not all(isinstance(text, str) and text.strip() for text in value.values()):
        return None
    return {str(language): text for language, text in value.items()}


# --- everything at once --------------------------------------------------------------------


def analyse(
    snapshot: Snapshot, *, naive_zone: tzinfo = UTC, min_count: int = MIN_WEEK_MESSAGES
) -> Pattern:
    ordered = timeline(snapshot.entries, naive_zone)
    found = people(snapshot)
    responsible = next((p for p in found if p.responsible), None)
    if responsible is not None:
        focus = from_person(ordered, responsible)
    else:
        focus = [e for e in ordered if e.item.kind != "system"]
    per_day = counts_per_day(focus, naive_zone)
    per_week = counts_per_week(per_day)
    return Pattern(
        timeline=ordered,
        people=found,
        responsible=responsible,
        focus=focus,
        per_day=per_day,
        per_week=per_week,
        markers=markers(focus, per_week, naive_zone, min_count=min_count),
        naive_zone=naive_zone,
    )
