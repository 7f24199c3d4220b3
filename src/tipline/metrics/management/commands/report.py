"""`tipline report transparency --period 2026-Q4`: the public report as HTML and PDF."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.metrics import transparency
from tipline.metrics.period import BadPeriod, parse_named


class Command(BaseCommand):
    help = "Write the public transparency report for a period (HTML and PDF, small counts hidden)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("kind", choices=["transparency"])
        parser.add_argument("--period", required=True, help="2026-Q4, 2026-11 or 2026")
        parser.add_argument(
            "--language", choices=transparency.LANGUAGES, action="append", help="default: all"
        )
        parser.add_argument("--out", type=Path, default=Path("."), help="folder to write to")
        parser.add_argument(
            "--threshold", type=int, default=None, help="hide counts below this (default 10)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = parse_named(options["period"])
        except BadPeriod as exc:
            raise CommandError(str(exc)) from None
        t = options["threshold"]
        if t is not None and t < 1:
            raise CommandError("the threshold is at least 1")
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        for language in options["language"] or transparency.LANGUAGES:
            html = transparency.render_html(period, language, t=t)
            stem = out / f"transparency-{options['period'].upper()}-{language}"
            stem.with_suffix(".html").write_text(html, encoding="utf-8")
            stem.with_suffix(".pdf").write_bytes(transparency.render_pdf(html))
            self.stdout.write(f"{stem}.html, {stem}.pdf")
