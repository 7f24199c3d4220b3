"""`tipline triage`: the engine's `score` and `eval`, plus the learned model's commands.

The engine's command (``tipline.triage``) cannot reach reports: it sits below them. This one,
which Django finds first (``tipline.ops`` comes before ``tipline.triage`` in INSTALLED_APPS; a
test checks it), extends it with:

* ``train`` — train the model on analysts' decisions (``cases/triage_model.py``); decrypts in this
  process only, seals the model, prints counts, never the model.
* ``model [off|shadow|on]`` — show the model in use, or switch it (audited ``triage.model_mode``;
  the command line acts as the machine's operator).
* ``train --starter`` — build the starter model from the development set (``triage/starter.py``)
  and write ``triage/data/starter.npz``; no report is read.
* ``starter [on|off]`` — show the starter model's switch, or switch it (audited ``triage.starter``).
* ``eval --model`` — rules alone, model alone and both, on a time-based split of the decisions.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from tipline.cases import triage_model
from tipline.cases.models import ModelMode, TriageModel
from tipline.triage import evaluate, learned, starter
from tipline.triage.management.commands import triage as engine_command


def _min_class(value: str) -> int:
    number = int(value)
    if number < learned.MIN_CLASS_FLOOR:
        raise ValueError(number)
    return number


class Command(engine_command.Command):
    help = (
        "Score a text, evaluate triage, train the learned model on analysts' decisions, "
        "or switch it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        self.eval_parser.add_argument(
            "--model",
            action="store_true",
            help=(
                "compare rules alone, the learned model alone and both combined on finished "
                "reports: a model is trained on the earliest 80%% of decisions (by closing time) "
                "and evaluated on the rest; the model in use is not touched"
            ),
        )
        self.eval_parser.add_argument(
            "--min-class",
            type=_min_class,
            default=learned.MIN_CLASS,
            help=f"with --model: decisions a tier needs (default {learned.MIN_CLASS})",
        )
        train = self.subcommands.add_parser(
            "train",
            help="train the learned model on analysts' decisions on finished reports",
            description=(
                "Train the learned triage model on every actioned or closed report whose content "
                "is not erased: the tier it finished at is its label (P4 when closed as not "
                "actionable or outside the remit; duplicates are left out). Reports are "
                "decrypted in this process only; the model is sealed and replaces the current "
                "one, and starts in shadow mode until an administrator switches it on. Refused "
                "when fewer than two tiers have --min-class decisions."
            ),
        )
        train.add_argument(
            "--min-class",
            type=_min_class,
            default=learned.MIN_CLASS,
            help=f"decisions a tier needs to be learned (default {learned.MIN_CLASS}, "
            f"at least {learned.MIN_CLASS_FLOOR})",
        )
        train.add_argument(
            "--starter",
            action="store_true",
            help=(
                "build the starter model from the development set (dev.jsonl, fixed seed) and "
                "write it to triage/data/starter.npz; reads no report"
            ),
        )
        starter_parser = self.subcommands.add_parser(
            "starter",
            help="show whether the starter model is used, or switch it on or off",
            description=(
                "The starter model, learned from the team's own written sentences, may raise a "
                "tier until the installation trains a model of its own. Without SWITCH, show "
                "it; with on or off, switch it (recorded in the audit log)."
            ),
        )
        starter_parser.add_argument("switch", nargs="?", choices=["on", "off"], metavar="SWITCH")
        model = self.subcommands.add_parser(
            "model",
            help="show the learned model in use, or switch it off, to shadow mode or on",
            description=(
                "Without MODE, show the model and its mode. With MODE: off (not run), shadow "
                "(its opinion is recorded and shown, the tier is the rules' alone) or on (it may "
                "raise a tier, never lower one). Every switch is recorded in the audit log."
            ),
        )
        model.add_argument("mode", nargs="?", choices=ModelMode.values, metavar="MODE")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "train" and options["starter"]:
            built = starter.write()
            self.stdout.write(
                f"starter model {built.version} written to {starter.STARTER_FILE} "
                f"({built.trained_on} sentences, raises at {built.raise_confidence:.2f})"
            )
        elif action == "train":
            self._train(options["min_class"])
        elif action == "starter":
            self._starter(options["switch"])
        elif action == "model":
            self._model(options["mode"])
        elif action == "eval" and options["model"]:
            if options["file"] or options["which"] or options["lang"]:
                raise CommandError(
                    "--model evaluates finished reports: give no FILE, --set or --lang"
                )
            self._eval_model(options["min_class"])
        else:
            super().handle(*args, **options)

    def _train(self, min_class: int) -> None:
        def progress(count: int) -> None:
            self.stderr.write(f"\r{count:,} decided reports read", ending="")

        try:
            row = triage_model.model_train(actor="cli", min_class=min_class, progress=progress)
        except learned.TrainingRefused as refusal:
            raise CommandError(f"not trained: {refusal}") from None
        self.stderr.write("")
        classes = ", ".join(f"{tier} {count}" for tier, count in sorted(row.classes.items()))
        self.stdout.write(
            f"model {row.version} trained on {row.trained_on} reports ({classes}); "
            f"mode: {triage_model.model_mode()}"
        )

    def _starter(self, switch: str | None) -> None:
        if switch is not None:
            before = triage_model.starter_set(actor=None, on=switch == "on")
            was = "on" if before else "off"
            self.stdout.write(f"starter model: {was} -> {switch} (recorded in the audit log)")
            return
        found = starter.model()
        state = "on" if triage_model.starter_enabled() else "off"
        replaced = TriageModel.objects.exists()
        self.stdout.write(
            f"starter model {found.version if found else '(missing)'}: {state}"
            + ("; not used: the installation's own model replaces it" if replaced else "")
        )

    def _model(self, mode: str | None) -> None:
        if mode is not None:
            before = triage_model.model_set_mode(actor=None, mode=mode)
            self.stdout.write(f"triage model: {before} -> {mode} (recorded in the audit log)")
            return
        row = TriageModel.objects.only("version", "trained_at", "trained_on", "classes").first()
        if row is None:
            self.stdout.write(f"no model trained; mode: {triage_model.model_mode()}")
            return
        self.stdout.write(
            f"model {row.version}, trained {row.trained_at.isoformat()} on {row.trained_on} "
            f"reports {json.dumps(row.classes, sort_keys=True)}; mode: {triage_model.model_mode()}"
        )

    def _eval_model(self, min_class: int) -> None:
        try:
            result = triage_model.compare(min_class=min_class)
        except learned.TrainingRefused as refusal:
            raise CommandError(f"cannot evaluate: {refusal}") from None
        any_report = next(iter(result.reports.values()))
        self.stdout.write(
            f"Learned model against the rules on finished reports: trained on "
            f"{result.trained_on} decided before {result.cut.isoformat()}, evaluated on the "
            f"{any_report.examples} decided from then on (time-based split)"
        )
        for name, title in (
            ("rules", "Rules alone"),
            ("model", "Model alone"),
            ("combined", "Rules and model (the model may only raise a tier)"),
        ):
            self.stdout.write("")
            self.stdout.write(title)
            self.stdout.write(evaluate.render(result.reports[name]))
        self.stdout.write(
            json.dumps(
                {
                    "cut": result.cut.isoformat(),
                    "trained_on": result.trained_on,
                    **{name: evaluate.summary(r) for name, r in result.reports.items()},
                }
            )
        )
