"""The figures as JSON or CSV for outside evaluators (schema: docs/metrics.md).

CSV is long-form, one number per line: ``section,key,measure,value`` (``key`` names the day,
category, channel, country, tier, outcome, age band or person; empty for headline totals). A
figure that cannot be computed (no reports, no notices) is empty in CSV and null in JSON.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Any

from tipline.metrics.selectors import Figures

SCHEMA_VERSION = 1


def as_json(figures: Figures) -> str:
    data = {"schema": SCHEMA_VERSION, **figures.as_dict()}
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def rows(figures: Figures) -> list[tuple[str, str, str, Any]]:
    out: list[tuple[str, str, str, Any]] = []
    for measure, value in figures.totals.items():
        out.append(("totals", "", measure, value))
    out.append(("totals", "", "actionable_share", figures.actionable_share))
    for section in ("by_day", "by_category", "by_channel", "by_country", "outcomes"):
        for key, value in getattr(figures, section):
            out.append((section, key, "reports", value))
    for tier in figures.by_tier:
        for measure in ("received", "claimed_late", "open_overdue", "deadline_hours"):
            out.append(("by_tier", tier["tier"], measure, tier[measure]))
    for name, summary in figures.durations.items():
        for measure, value in asdict(summary).items():
            out.append(("durations_hours", name, measure, value))
    out.append(("backlog", "", "open", figures.backlog["open"]))
    out.append(("backlog", "", "median_age_days", figures.backlog["median_age_days"]))
    for label, value in figures.backlog["ages"]:
        out.append(("backlog_age", label, "reports", value))
    for person in figures.workload:
        for measure in ("claimed", "decided", "reviewed"):
            out.append(("workload", person["who"], measure, person[measure]))
    for measure, value in asdict(figures.takedown).items():
        out.append(("takedown", "", measure, value))
    for section, groups in (
        ("takedown_by_country", figures.takedown_by_country),
        ("takedown_by_provider", figures.takedown_by_provider),
    ):
        for key, group in groups:
            for measure, value in asdict(group).items():
                out.append((section, key, measure, value))
    return out


def as_csv(figures: Figures, *, section: str | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "key", "measure", "value"])
    for row in rows(figures):
        if section is None or row[0] == section:
            writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet runs a cell that starts with = + - @ as a formula; keys are ours, but a
    # staff username or a provider name is not, so neutralise them.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
