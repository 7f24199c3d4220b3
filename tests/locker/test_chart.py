"""The server-side SVG chart: accessible, self-contained, and text in it is only ever text."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import defusedxml.ElementTree as SafeET
import pytest

from tests.locker.test_pattern import item, snapshot_of
from tipline.locker import chart, pattern

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script> ]]> "quoted" & \x00\x1b'


def _analysed(days: int, per_day: int = 1, text: str = "are you there?") -> pattern.Pattern:
    start = datetime(2026, 1, 5, 8, 0)
    items = [
        item(start + timedelta(days=d, minutes=n), "Alex", text)
        for d in range(days)
        for n in range(per_day)
    ]
    return pattern.analyse(snapshot_of(items))


def test_the_chart_is_an_accessible_image_with_a_summary_in_words() -> None:
    analysed = _analysed(10)
    svg = chart.chart(analysed, title="Messages per day")
    root = SafeET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "locker-chart-title locker-chart-desc"
    assert root.find(f"{SVG}title").text == "Messages per day"
    desc = root.find(f"{SVG}desc").text
    assert "10 items from 2026-01-05 to 2026-01-14. Items per day." in desc
    assert len(root.findall(f"{SVG}rect")) == 11  # the white background and ten bars
    # Nothing that runs or fetches: no script, no links, no external references.
    for forbidden in ("<script", "href", "url(", "http:", "https:", "<image", "<foreignObject"):
        assert forbidden not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_hostile_sender_names_and_words_are_escaped() -> None:
    analysed = _analysed(3, text="I will hurt you")
    [threat] = analysed.markers
    # A reason that repeats the sender's own words and a name used in the title.
    hostile_marker = replace(threat, label=HOSTILE, reason=f"said by {HOSTILE}")
    found = chart.bars(analysed.per_day)[1]
    svg = chart.render(
        found,
        period="day",
        markers=[hostile_marker],
        title=f"Messages from {HOSTILE}",
        chart_id='x" onload="alert(1)',
    )
    assert "<script" not in svg
    assert "]]>" not in svg
    assert "onload" not in svg.replace("xonloadalert1", "")
    assert "\x00" not in svg
    root = SafeET.fromstring(svg)  # still well-formed XML
    assert root.find(f"{SVG}title").text == (
        'Messages from <script>alert(1)</script> ]]> "quoted" & \ufffd\ufffd'
    )
    assert root.get("aria-labelledby") == "xonloadalert1-title xonloadalert1-desc"
    assert "<script>" in root.find(f"{SVG}desc").text  # as text, for the reader


def test_period_switches_from_days_to_weeks_to_months() -> None:
    start = date(2026, 1, 1)
    days = [(start + timedelta(days=n), 1) for n in range(chart.MAX_DAYS)]
    assert chart.bars(days)[0] == "day"
    longer = [(start + timedelta(days=n), 1) for n in range(chart.MAX_DAYS + 1)]
    period, weekly = chart.bars(longer)
    assert period == "week"
    assert weekly[0].label == "2026-W01"
    assert sum(b.count for b in weekly) == chart.MAX_DAYS + 1
    years = [(start + timedelta(days=n), 2) for n in range(7 * (chart.MAX_WEEKS + 10))]
    period, monthly = chart.bars(years)
    assert period == "month"
    assert monthly[0].label == "2026-01"
    assert sum(b.count for b in monthly) == 2 * 7 * (chart.MAX_WEEKS + 10)


def test_markers_are_drawn_on_their_bar_and_named_in_the_legend() -> None:
    items = [item(datetime(2026, 1, 5, 8), "Alex", "good morning")]
    items += [item(datetime(2026, 1, 7, 9), "Alex", "I know where you live")]
    items += [item(datetime(2026, 1, 7, 10), "Alex", "I will hurt you")]
    analysed = pattern.analyse(snapshot_of(items))
    svg = chart.chart(analysed, title="t")
    root = SafeET.fromstring(svg)
    letters = [t.text for t in root.iter(f"{SVG}text") if t.get("fill") == chart.MARK]
    assert letters == ["L", "T"]
    legend = ["".join(t.itertext()) for t in root.iter(f"{SVG}text") if t.get("fill") == chart.INK]
    assert "Items per day." in legend
    assert "T First threat" in legend
    assert any(line.startswith("L First mention of where") for line in legend)
    desc = root.find(f"{SVG}desc").text
    assert "First threat on 2026-01-07" in desc


def test_an_empty_locker_draws_a_message_not_an_error() -> None:
    svg = chart.chart(pattern.analyse(snapshot_of([])), title="Nothing yet")
    assert "No dated items yet." in svg
    SafeET.fromstring(svg)


@pytest.mark.parametrize("top", [0, 1, 4, 5, 6, 11, 99, 1234, 10**6])
def test_tick_step_gives_at_most_five_gridlines(top: int) -> None:
    step = chart._step(top)
    assert step * 5 >= top
    assert str(step).strip("0") in {"1", "2", "5"}


def test_every_text_is_at_least_14_units_and_the_legend_is_translated() -> None:
    # Issue 13: at 720 units with 10-11 unit text, a 390 px phone showed 5 px letters.
    from django.utils import translation

    items = [item(datetime(2026, 1, 5, 8), "Alex", "good morning")]
    items += [item(datetime(2026, 1, 7, 9), "Alex", "I will hurt you")]
    items += [item(datetime(2026, 1, 8, 9), "Alex", "main bahar hoon")]
    with translation.override("fr"):
        root = SafeET.fromstring(chart.chart(pattern.analyse(snapshot_of(items)), title="t"))
        lines = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
        assert "Éléments par jour." in lines
        assert "T Première menace" in lines
    assert root.get("viewBox", "").startswith(f"0 0 {chart.WIDTH} ")
    assert all(float(t.get("font-size", 0)) >= 14 for t in root.iter(f"{SVG}text"))
    with translation.override("hi"):
        svg = chart.chart(pattern.analyse(snapshot_of(items)), title="t")
        assert "पहली धमकी" in svg
        assert "Items per day." not in svg
