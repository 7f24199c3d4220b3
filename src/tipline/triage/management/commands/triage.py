"""`tipline triage score|eval`: score one text from standard input, or evaluate a labelled file.

`score` reads the text on standard input, never from an argument: arguments end up in shell
history and in the process list, and a report's words belong in neither. It prints one JSON
object, so scripts and the rule authors' editors can use it.

`eval` prints a table and, as its last line, one JSON object, so a CI job can read the numbers
without parsing the table. Without a file it evaluates the two shipped sets separately (`--set`
chooses one): the team's own written development set, which the rules have been tuned on, and
the held-apart test set, which they never are. Each is reported per language with Wilson
intervals and the issue-20 goals; neither says how triage does on real reports, and the header
says so.
"""

from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tipline.triage import engine, goals, learned, starter
from tipline.triage.evaluate import DEV_SET, TEST_SET, evaluate, load, render, summary
from tipline.triage.tiers import Tier
from tipline.triage.types import Score

MAX_INPUT = 1024 * 1024  # bytes read from standard input for `score`

# The shipped sets: name -> (file, what the header says about it).
SETS: dict[str, tuple[Path, str]] = {
    "dev": (
        DEV_SET,
        "Triage evaluation on the team's development set (examples written by the team, not "
        "real reports, and the rules were tuned on them; it shows whether a rule change helps, "
        "not real-world accuracy)",
    ),
    "test": (
        TEST_SET,
        "Triage evaluation on the held-apart test set (written before the issue-20 rule rebuild "
        "and never tuned on; an AI-assisted draft not yet reviewed by native speakers, not real "
        "reports)",
    ),
}


def _languages() -> list[str]:
    return sorted(engine.load().ruleset.languages)


def _check_language(lang: str | None) -> str | None:
    if lang is None:
        return None
    known = _languages()
    if lang not in known:
        raise CommandError(f"unknown language {lang!r}: rules exist for {', '.join(known)}")
    return lang


def _as_json(result: Score) -> dict[str, Any]:
    return {
        "score": result.score,
        "tier": str(result.tier),
        "reasons": [
            {
                "rule": reason.rule,
                "span": reason.span.text if reason.span else None,
                "start": reason.span.start if reason.span else None,
                "end": reason.span.end if reason.span else None,
                "points": reason.points,
            }
            for reason in result.reasons
        ],
    }


class Command(BaseCommand):
    help = "Score one text read from standard input, or evaluate triage on a labelled JSONL file."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        score = sub.add_parser(
            "score",
            help="score one text read from standard input; prints one JSON object",
            description=(
                "Score the text on standard input (UTF-8, at most 1 MB) and print one JSON "
                "object: score, tier and the reasons with the words that fired each rule."
            ),
        )
        score.add_argument(
            "--lang", help="language of the text (en, fr, hi); default: every language's rules"
        )

        evaluate_parser = sub.add_parser(
            "eval",
            help="evaluate triage on labelled examples (default: the dev and test sets, apart)",
            description=(
                'Evaluate triage on a JSONL file of {"text", "tier", "lang"} lines: per-tier '
                "precision, recall and F1 with 95% bootstrap intervals, the confusion matrix, "
                "and per language every rate with a 95% Wilson interval and the goals (threat "
                "recall, P1 recall, calm sentences made urgent) with pass or fail. The last line "
                "of output is one JSON object with the numbers. Without FILE, the shipped "
                "development and test sets are evaluated separately (see --set)."
            ),
        )
        evaluate_parser.add_argument("file", nargs="?", metavar="FILE", help="JSONL file")
        evaluate_parser.add_argument(
            "--set",
            dest="which",
            choices=["dev", "test", "both"],
            help=(
                "which shipped set to evaluate when no FILE is given (default: both, each "
                'reported on its own; the last line is then {"sets": {"dev": …, "test": …}})'
            ),
        )
        evaluate_parser.add_argument(
            "--lang", help="evaluate only the examples labelled with this language"
        )
        evaluate_parser.add_argument(
            "--misses",
            action="store_true",
            help="also list the line number, label and prediction of every miss",
        )
        evaluate_parser.add_argument(
            "--starter",
            action="store_true",
            help=(
                "score with the rules and the committed starter model together (the starter may "
                "only raise a tier), as a new installation does; the starter learned from the "
                "development set, so its dev figures are not held out (its cross-validated "
                "figures are in docs/BENCHMARKS.md)"
            ),
        )
        # The command line's own `triage` (tipline.ops) adds the learned model's subcommands and
        # options to these parsers: they need reports, which this engine layer cannot import.
        self.subcommands = sub
        self.eval_parser = evaluate_parser

    def handle(self, *args: Any, **options: Any) -> None:
        lang = _check_language(options["lang"])
        if options["action"] == "score":
            self._score(lang)
        else:
            self._eval(
                options["file"],
                which=options["which"],
                lang=lang,
                show_misses=options["misses"],
                with_starter=options["starter"],
            )

    def _score(self, lang: str | None) -> None:
        data = sys.stdin.buffer.read(MAX_INPUT + 1)
        if len(data) > MAX_INPUT:
            raise CommandError(f"the text on standard input is larger than {MAX_INPUT:,} bytes")
        text = data.decode("utf-8", errors="replace")
        self.stdout.write(json.dumps(_as_json(engine.score(text, lang=lang)), ensure_ascii=False))

    def _eval(
        self,
        file: str | None,
        *,
        which: str | None,
        lang: str | None,
        show_misses: bool,
        with_starter: bool = False,
    ) -> None:
        if file and which:
            raise CommandError("give a FILE or --set, not both")
        if file:
            path = Path(file)
            result = self._eval_one(
                path, f"Triage evaluation on {path}", lang, show_misses, with_starter
            )
        else:
            names = ["dev", "test"] if which in (None, "both") else [str(which)]
            results: dict[str, dict[str, Any]] = {}
            for number, name in enumerate(names):
                if number:
                    self.stdout.write("")
                set_path, header = SETS[name]
                results[name] = self._eval_one(set_path, header, lang, show_misses, with_starter)
            result = results[names[0]] if len(names) == 1 else {"sets": results}
        self.stdout.write(json.dumps(result))

    def _eval_one(
        self,
        path: Path,
        header: str,
        lang: str | None,
        show_misses: bool,
        with_starter: bool = False,
    ) -> dict[str, Any]:
        """Evaluate one file, print its tables, and return its machine-readable summary."""
        try:
            parsed = load(path)
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror or error}") from None
        for bad in parsed.bad:
            self.stderr.write(f"{path}:{bad.line}: skipped: {bad.reason}")
        examples = [e for e in parsed.examples if lang is None or e.lang == lang]
        if not examples:
            raise CommandError(f"{path}: no usable examples ({len(parsed.bad)} bad lines)")
        known = set(_languages())
        for example in examples:
            if example.lang is not None and example.lang not in known:
                raise CommandError(
                    f"{path}:{example.line}: unknown language {example.lang!r}: "
                    f"rules exist for {', '.join(sorted(known))}"
                )

        if with_starter and starter.model() is None:
            raise CommandError(f"no starter model at {starter.STARTER_FILE}: run train --starter")

        def scorer(text: str, example_lang: str | None) -> Tier:
            tier = engine.score(text, lang=example_lang).tier
            return learned.combine(tier, starter.opinion(text)) if with_starter else tier

        report = evaluate(examples, scorer, skipped=len(parsed.bad))
        groups = goals.measure(examples, report.predicted)
        only = f" labelled {lang!r}" if lang else ""
        if with_starter:
            header += "; rules and the starter model together"
        self.stdout.write(
            f"{header}: {report.examples} examples{only}, {report.skipped} lines skipped"
        )
        self.stdout.write("")
        self.stdout.write(render(report))
        self.stdout.write("")
        self.stdout.write(goals.render(groups))
        if show_misses:
            self.stdout.write("")
            self.stdout.write("misses (line: labelled -> predicted)")
            for line, gold, predicted in report.misses:
                self.stdout.write(f"  {path.name}:{line}: {gold} -> {predicted}")
        return {**summary(report), "by_lang": goals.summary(groups)}
