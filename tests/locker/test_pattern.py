"""The locker's pattern: ordering rule, grouping of the other party, filter, counts, markers.

Snapshots here are synthetic and written by hand; message texts describe behaviour only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tipline.locker import pattern
from tipline.locker.types import (
    EvidenceRecord,
    Format,
    Incident,
    IncidentVersion,
    Item,
    Kind,
    Snapshot,
    TimelineEntry,
)

PLUS_ONE = timezone(timedelta(hours=1))
IMPORTED = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def item(
    when: datetime | None,
    sender: str = "Alex",
    text: str = "hello",
    *,
    source: Format = "whatsapp",
    kind: Kind = "message",
    identifiers: tuple[str, ...] = (),
) -> Item:
    return Item(source, kind, when, sender, text, "chat", identifiers)


def snapshot_of(
    items: Sequence[Item | tuple[Item, int]],
    *,
    responsible: tuple[str, ...] = (),
    title: str = "My log",
    originals: dict[int, bytes] | None = None,
    incidents: Sequence[Incident] = (),
) -> Snapshot:
    entries = [
        TimelineEntry(i[0], i[1]) if isinstance(i, tuple) else TimelineEntry(i, 1) for i in items
    ]
    originals = originals if originals is not None else {1: b"chat export bytes"}
    evidence = [
        EvidenceRecord(
            id=number,
            filename=f"export-{number}.txt",
            format="whatsapp",
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            imported_at=IMPORTED,
            item_count=sum(1 for e in entries if e.evidence_id == number),
        )
        for number, data in sorted(originals.items())
    ]
    return Snapshot(
        title=title,
        created_at=IMPORTED - timedelta(days=10),
        evidence=evidence,
        entries=entries,
        incidents=list(incidents),
        responsible=responsible,
        originals=originals,
    )


def incident(*texts: str) -> Incident:
    versions = tuple(
        IncidentVersion(
            occurred_at=datetime(2026, 2, 1, 21, 0, tzinfo=UTC),
            platform="WhatsApp",
            what_happened=text,
            accounts="Alex",
            impact="I stopped going out alone.",
            evidence_ids=(1,),
            written_at=IMPORTED + timedelta(days=n),
        )
        for n, text in enumerate(texts)
    )
    return Incident(id=1, versions=versions)


# --- ordering ------------------------------------------------------------------------------


def test_aware_items_order_by_instant_and_naive_by_wall_clock_in_the_zone() -> None:
    naive_0930 = item(datetime(2026, 1, 5, 9, 30), text="naive 09:30")
    # 09:00 +01:00 is 08:00 UTC: before the naive 09:30 read as UTC.
    aware_0900_plus1 = item(datetime(2026, 1, 5, 9, 0, tzinfo=PLUS_ONE), text="aware 08:00Z")
    aware_0915_utc = item(datetime(2026, 1, 5, 9, 15, tzinfo=UTC), text="aware 09:15Z")
    entries = snapshot_of([naive_0930, aware_0915_utc, aware_0900_plus1]).entries

    ordered = [e.item.text for e in pattern.timeline(entries)]
    assert ordered == ["aware 08:00Z", "aware 09:15Z", "naive 09:30"]

    # Read in Kolkata (+05:30), naive 09:30 is 04:00 UTC: it moves first.
    kolkata = [e.item.text for e in pattern.timeline(entries, ZoneInfo("Asia/Kolkata"))]
    assert kolkata == ["naive 09:30", "aware 08:00Z", "aware 09:15Z"]


def test_untimed_items_go_last_in_import_order_and_ties_keep_import_order() -> None:
    same = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    items = [
        item(None, text="untimed first"),
        item(same, text="tie a"),
        item(None, text="untimed second"),
        item(same.replace(tzinfo=None), text="tie b (naive, same instant in UTC)"),
        item(same - timedelta(minutes=1), text="earliest"),
    ]
    ordered = [e.item.text for e in pattern.timeline(snapshot_of(items).entries)]
    assert ordered == [
        "earliest",
        "tie a",
        "tie b (naive, same instant in UTC)",
        "untimed first",
        "untimed second",
    ]


def test_extreme_timestamps_do_not_crash_the_ordering() -> None:
    items = [
        item(datetime(1, 1, 1, 0, 0), text="year one, naive"),
        item(datetime(9999, 12, 31, 23, 59, tzinfo=PLUS_ONE), text="year 9999"),
        item(datetime(2026, 1, 1, tzinfo=UTC), text="normal"),
    ]
    zone = ZoneInfo("Pacific/Kiritimati")
    ordered = [e.item.text for e in pattern.timeline(snapshot_of(items).entries, zone)]
    assert ordered == ["year one, naive", "normal", "year 9999"]


def test_time_as_written_shows_the_offset_only_when_known() -> None:
    assert pattern.time_as_written(datetime(2026, 1, 5, 9, 0, tzinfo=PLUS_ONE)) == (
        "2026-01-05 09:00:00 +01:00"
    )
    assert pattern.time_as_written(datetime(2026, 1, 5, 9, 0, 0, 500, tzinfo=UTC)) == (
        "2026-01-05 09:00:00 +00:00"
    )
    assert "offset unknown" in pattern.time_as_written(datetime(2026, 1, 5, 9, 0))
    assert pattern.time_as_written(None) == "no time"


# --- people --------------------------------------------------------------------------------


def test_identifiers_that_co_occur_are_one_person_and_the_marked_ones_are_merged() -> None:
    items = [
        item(None, "Alex R.", identifiers=("+44 7700 900123",)),
        item(None, "alex.r@example.net", source="eml", identifiers=("alex.r@example.net",)),
        item(None, "@shadow_fox", source="telegram", identifiers=("+447700900123",)),
        item(None, "Sam"),
        item(None, "", kind="system", text="Messages are end-to-end encrypted"),
    ]
    found = pattern.people(snapshot_of(items, responsible=("Alex.R@example.NET", "Alex R.")))
    responsible = found[0]
    assert responsible.responsible
    # Phone numbers meet across spacing; the e-mail account joins through the victim's mark.
    assert set(responsible.names) == {"Alex R.", "@shadow_fox", "alex.r@example.net"}
    assert "+44 7700 900123" in responsible.identifiers
    assert responsible.item_count == 3
    assert [p.names for p in found[1:]] == [("Sam",)]
    assert not found[1].responsible


def test_no_responsible_marked_lists_everyone_and_no_person_is_responsible() -> None:
    items = [item(None, "Alex"), item(None, "Alex"), item(None, "Sam")]
    found = pattern.people(snapshot_of(items))
    assert [(p.names, p.item_count, p.responsible) for p in found] == [
        (("Alex",), 2, False),
        (("Sam",), 1, False),
    ]
    analysed = pattern.analyse(snapshot_of(items))
    assert analysed.responsible is None
    assert len(analysed.focus) == 3


def test_filter_keeps_only_the_responsible_persons_items() -> None:
    items = [
        item(datetime(2026, 1, 1, 9), "Alex", identifiers=("user1",), source="telegram"),
        item(datetime(2026, 1, 1, 10), "Sam", "please stop"),
        item(datetime(2026, 1, 1, 11), "New account", identifiers=("user1",), source="telegram"),
        item(datetime(2026, 1, 1, 12), "", kind="system", text="Alex changed the subject"),
    ]
    analysed = pattern.analyse(snapshot_of(items, responsible=("alex",)))
    assert [e.item.sender for e in analysed.focus] == ["Alex", "New account"]
    assert analysed.responsible is not None
    assert pattern.from_person(analysed.timeline, analysed.responsible) == analysed.focus


def test_identity_folds_case_spacing_phone_formatting_and_handles() -> None:
    assert pattern.identity("  Alex   R. ") == "alex r."
    assert pattern.identity("+44 (0) 7700-900.123") == "+4407700900123"
    assert pattern.identity("@Shadow_Fox") == "shadow_fox"
    assert pattern.identity("a@b.example") == "a@b.example"
    assert pattern.identity("   ") == ""


# --- counts --------------------------------------------------------------------------------


def test_counts_per_day_and_week_include_empty_days_and_use_the_zone() -> None:
    items = [
        item(datetime(2026, 1, 5, 23, 30)),  # naive: Monday as written, whatever the zone
        item(datetime(2026, 1, 5, 23, 30, tzinfo=UTC)),  # Tuesday in Kolkata
        item(datetime(2026, 1, 8, 12, 0)),
        item(datetime(2026, 1, 13, 12, 0)),
        item(datetime(2026, 1, 13, 12, 0), kind="system", sender=""),  # never counted
        item(None),  # no day
    ]
    entries = snapshot_of(items).entries
    per_day = pattern.counts_per_day(entries, ZoneInfo("Asia/Kolkata"))
    assert per_day[:4] == [
        (date(2026, 1, 5), 1),
        (date(2026, 1, 6), 1),
        (date(2026, 1, 7), 0),
        (date(2026, 1, 8), 1),
    ]
    assert per_day[-1] == (date(2026, 1, 13), 1)
    assert len(per_day) == 9
    assert pattern.counts_per_week(per_day) == [(date(2026, 1, 5), 3), (date(2026, 1, 12), 1)]
    assert pattern.week_label(date(2026, 1, 5)) == "2026-W02"
    assert pattern.week_label(date(2024, 12, 30)) == "2025-W01"
    assert pattern.counts_per_day([]) == []


# --- markers -------------------------------------------------------------------------------


def _weekly(counts: Sequence[int], text: str = "are you there?") -> list[Item]:
    monday = datetime(2026, 1, 5, 8, 0)
    found = []
    for week, count in enumerate(counts):
        for n in range(count):
            found.append(item(monday + timedelta(weeks=week, minutes=n), "Alex", text))
    return found


def test_rising_frequency_needs_twice_the_average_of_four_weeks_and_a_minimum() -> None:
    per_week = [(date(2026, 1, 5) + timedelta(weeks=n), c) for n, c in enumerate(
        [6, 4, 5, 5, 20, 9, 30, 12]
    )]  # fmt: skip
    rising = pattern.rising_weeks(per_week, min_count=10)
    # Week 4: 20 >= 2 x 5.0. Week 6: 30 >= 2 x (5+5+20+9)/4 = 2 x 9.75. Week 5 (9) is below
    # the minimum; week 7 (12) below twice (5+20+9+30)/4 = 16.0.
    assert [(m, c) for m, c, _ in rising] == [
        (date(2026, 2, 2), 20),
        (date(2026, 2, 16), 30),
    ]
    assert rising[1][2] == pytest.approx(9.75)
    # The first week has nothing before it; a high minimum silences everything.
    assert pattern.rising_weeks([(date(2026, 1, 5), 500)], min_count=1) == []
    assert pattern.rising_weeks(per_week, min_count=31) == []


def test_frequency_marker_points_at_the_first_message_of_the_week_and_says_why() -> None:
    analysed = pattern.analyse(snapshot_of(_weekly([2, 3, 2, 1, 12])), min_count=10)
    [marker] = analysed.markers
    assert marker.kind == "frequency"
    assert marker.day == date(2026, 2, 2)
    assert marker.entry.item.timestamp == datetime(2026, 2, 2, 8, 0)
    assert "12 messages in the week of 2026-02-02 (2026-W06)" in marker.reason
    assert "average of 2.0" in marker.reason
    assert marker.span is None


@pytest.mark.parametrize(
    ("kind", "text", "words", "rule"),
    [
        # The grammar rule (intent marker + violent verb) fires first since issue 20's rebuild.
        ("threat", "if you block me I will hurt you", "will hurt", "en.threat."),
        ("location", "I know where you live, Sam.", "I know where you live", "en.location"),
        ("location", "I waited outside your work today", "outside your work", "markers."),
        ("family", "Say hello to your sister for me", "your sister", "markers.family"),
        ("family", "Je connais ta sœur.", "ta sœur", "markers.family"),
        ("family", "मैं तेरे बच्चे को जानता हूँ", "तेरे बच्चे", "markers.family"),
        ("family", "How are Y O U R   K I D S?", "Y O U R   K I D S", "markers.family"),
    ],
)
def test_each_marker_kind_carries_the_item_reason_and_span(
    kind: str, text: str, words: str, rule: str
) -> None:
    items = [
        item(datetime(2026, 1, 5, 8), "Alex", "good morning"),
        item(datetime(2026, 1, 5, 9), "Alex", text),
        item(datetime(2026, 1, 5, 10), "Alex", text + " again"),
    ]
    analysed = pattern.analyse(snapshot_of(items))
    [marker] = [m for m in analysed.markers if m.kind == kind]
    assert marker.entry.item.text == text  # the first, not the repeat
    assert marker.span is not None
    assert marker.span.text.casefold() == words.casefold()
    assert text[marker.span.start : marker.span.end] == marker.span.text
    assert marker.rule.startswith(rule)
    assert marker.reason
    assert marker.label


def test_markers_come_only_from_the_responsible_person_when_one_is_marked() -> None:
    items = [
        item(datetime(2026, 1, 5, 8), "Sam", "he said he would hurt you, your family is worried"),
        item(datetime(2026, 1, 5, 9), "Alex", "I know where you work"),
    ]
    analysed = pattern.analyse(snapshot_of(items, responsible=("Alex",)))
    assert [(m.kind, m.entry.item.sender) for m in analysed.markers] == [("location", "Alex")]


def test_markers_are_in_timeline_order_and_system_lines_never_fire() -> None:
    items = [
        item(datetime(2026, 1, 7), "Alex", "your mother called me"),
        item(datetime(2026, 1, 5), "", "I will kill you", kind="system"),
        item(datetime(2026, 1, 6), "Alex", "I am going to kill you"),
    ]
    kinds = [m.kind for m in pattern.analyse(snapshot_of(items)).markers]
    assert kinds == ["threat", "family"]


def test_negated_threat_does_not_fire() -> None:
    items = [item(datetime(2026, 1, 5), "Alex", "I would never hurt you")]
    assert pattern.analyse(snapshot_of(items)).markers == []


def test_markers_file_is_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from pathlib import Path

    bad = Path(str(tmp_path)) / "markers.yaml"
    bad.write_text("version: 1\nkinds:\n  threat: {label: x, families: [nonsense]}\n")
    monkeypatch.setattr(pattern, "MARKERS_FILE", bad)
    pattern._marker_kinds.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"markers\.yaml"):
            pattern._marker_kinds()
    finally:
        monkeypatch.undo()
        pattern._marker_kinds.cache_clear()
    assert set(pattern._marker_kinds()) == {"threat", "location", "presence", "family"}


# --- hostile input -------------------------------------------------------------------------

_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("<>&]\u200b\u202e"),
    max_size=40,
)
_WHEN = (
    st.none()
    | st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
    | st.datetimes(timezones=st.sampled_from([UTC, PLUS_ONE, ZoneInfo("America/St_Johns")]))
)
_ITEM = st.builds(
    item,
    _WHEN,
    _TEXT,
    _TEXT,
    kind=st.sampled_from(["message", "system", "call", "email"]),
    identifiers=st.lists(_TEXT, max_size=3).map(tuple),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_ITEM, max_size=12), responsible=st.lists(_TEXT, max_size=2))
def test_any_snapshot_is_analysed_without_error(items: list[Item], responsible: list[str]) -> None:
    snapshot = snapshot_of(items, responsible=tuple(responsible))
    analysed = pattern.analyse(snapshot, naive_zone=ZoneInfo("Australia/Lord_Howe"))
    assert sorted(map(id, analysed.timeline)) == sorted(map(id, snapshot.entries))
    assert sum(c for _, c in analysed.per_day) == sum(
        1 for e in analysed.focus if e.item.timestamp is not None
    )
    assert len({p.keys for p in analysed.people}) == len(analysed.people)
    for marker in analysed.markers:
        if marker.span is not None:
            text = marker.entry.item.text
            assert text[marker.span.start : marker.span.end] == marker.span.text


def test_a_bogus_year_does_not_make_millions_of_empty_days() -> None:
    items = [item(datetime(1, 1, 1)), item(datetime(2026, 1, 1)), item(datetime(9999, 1, 1))]
    per_day = pattern.counts_per_day(snapshot_of(items).entries)
    assert per_day == [(date(1, 1, 1), 1), (date(2026, 1, 1), 1), (date(9999, 1, 1), 1)]
    assert len(pattern.counts_per_week(per_day)) == 3
