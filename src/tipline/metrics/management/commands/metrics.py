"""`tipline metrics refresh|rebuild|export`: the rollup tables and the figures from them.

``rebuild`` deletes every rollup row and recomputes them from the reports and the audit log; it
gives the same numbers as the running refresh (tests/metrics/test_rollup.py holds it to that).
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.metrics import export, rollup, selectors
from tipline.metrics.period import BadPeriod, make, make_filters, parse_day


class Command(BaseCommand):
    help = "Keep, rebuild and export the metrics rollups (never decrypts anything)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("refresh", help="take in events since the last refresh")
        sub.add_parser("rebuild", help="recompute every rollup from the sources")
        exp = sub.add_parser("export", help="the figures for a period (schema: docs/metrics.md)")
        exp.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        exp.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        exp.add_argument("--format", choices=["json", "csv"], default="json")
        for name in ("category", "channel", "country", "tier"):
            exp.add_argument(f"--{name}", default="", help=f"only this {name}")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action in ("refresh", "rebuild"):
            began = time.perf_counter()
            summary = rollup.rebuild() if action == "rebuild" else rollup.refresh_all()
            self.stdout.write(
                f"{action}: {summary.reports} report(s), {summary.days} day(s), "
                f"{time.perf_counter() - began:.1f} s"
            )
            return
        try:
            period = make(parse_day(options["start"]), parse_day(options["end"]))
            filters = make_filters(
                {k: options[k] for k in ("category", "channel", "country", "tier") if options[k]}
            )
        except BadPeriod as exc:
            raise CommandError(str(exc)) from None
        if period.clipped:
            self.stderr.write(f"the period ends in the future: figures run to {period.end}")
        figures = selectors.figures(period, filters)
        text = export.as_json(figures) if options["format"] == "json" else export.as_csv(figures)
        self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
