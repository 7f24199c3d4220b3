"""Does the starter model help on sentences the rules had not seen? Development data only.

Two experiments, both on ``triage/data/dev.jsonl`` alone (the held-apart test set is not read):

* ``cv``: stratified (language x tier) 5-fold cross-validation grouped by blocks of neighbouring
  lines (``starter.folds``): rules alone, starter alone and both, per language, at each raise
  threshold; the threshold is the lowest whose combined calm-P1/P2 rate is <= 5 % everywhere.
  On these sentences the rules are near perfect because they were tuned on them, so this shows
  what the starter *costs* (false alarms), not what it adds.
* ``batches``: the development set grew in batches, each committed together with the rule change
  it prompted. For each batch, the rules *as they were before it* (the parent commit's rule files,
  read with ``git show``) score the batch's sentences, which they had never seen, and a starter
  trained on every other development sentence (leave one batch out) may raise them. This is the
  nearest the development data comes to "sentences nobody here wrote the rules for".

Usage (from the repository root, with the venv):
  DJANGO_SETTINGS_MODULE=tipline.settings TIPLINE_DATA_DIR=$PWD/var PYTHONPATH=src \
    .venv/bin/python benchmarks/triage_starter.py [cv|batches|both] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django

django.setup()

from tipline.triage import engine, goals, learned, starter  # noqa: E402
from tipline.triage.evaluate import Example, parse_jsonl  # noqa: E402
from tipline.triage.tiers import Tier  # noqa: E402

DEV = "src/tipline/triage/data/dev.jsonl"
RULES = "src/tipline/triage/data/rules"
SCORING = "src/tipline/triage/data/scoring.yaml"
FIRST_BATCH = "058fb63"  # the first grammar round whose commit says how many were missed before


def _git(*args: str) -> bytes:
    return subprocess.run(["git", *args], check=True, capture_output=True).stdout


def batches(thresholds: tuple[float, ...]) -> dict[str, object]:
    commits = (
        _git("log", "--reverse", "--format=%h", f"{FIRST_BATCH}^..HEAD", "--", DEV).decode().split()
    )
    every = starter.examples()
    by_text = {e.text: e for e in every}
    held: list[Example] = []
    rules_tiers: list[Tier] = []
    combined: dict[float, list[Tier]] = {t: [] for t in thresholds}
    alone: dict[float, list[Tier]] = {t: [] for t in thresholds}
    per_batch = []
    for commit in commits:
        before = {e.text for e in parse_jsonl(_git("show", f"{commit}^:{DEV}")).examples}
        after = parse_jsonl(_git("show", f"{commit}:{DEV}")).examples
        # The batch as it stands in today's file (labels may have been corrected since).
        batch = [by_text[e.text] for e in after if e.text not in before and e.text in by_text]
        if not batch:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            rules_dir = Path(tmp) / "rules"
            rules_dir.mkdir()
            for name in _git("ls-tree", "--name-only", f"{commit}^:{RULES}").decode().split():
                (rules_dir / name).write_bytes(_git("show", f"{commit}^:{RULES}/{name}"))
            (Path(tmp) / "scoring.yaml").write_bytes(_git("show", f"{commit}^:{SCORING}"))
            old = engine.Engine.from_files(
                sorted(rules_dir.glob("*.yaml")), Path(tmp) / "scoring.yaml"
            )
        texts = {e.text for e in batch}
        model = learned.train(
            [
                learned.TrainingExample(e.text, starter._NO_RULES, e.tier)
                for e in every
                if e.text not in texts
            ],
            version="batch",
            min_class=starter.MIN_CLASS,
            seed=starter.SEED,
            reads_rules=False,
        )
        missed = 0
        for example in batch:
            tier = old.score(example.text, lang=example.lang).tier
            row = model.probabilities(example.text, starter._NO_RULES)
            held.append(example)
            rules_tiers.append(tier)
            missed += tier != example.tier
            for t in thresholds:
                raised = starter.raised_to(row, model.classes, t)
                alone[t].append(raised or model.classes[-1])
                combined[t].append(min(tier, raised or tier, key=learned.TIER_ORDER.index))
        per_batch.append({"commit": commit, "sentences": len(batch), "rules_wrong_tier": missed})
        print(
            f"batch {commit}: {len(batch)} sentences, old rules wrong tier {missed}",
            file=sys.stderr,
        )
    out: dict[str, object] = {"batches": per_batch, "sentences": len(held)}
    out["rules"] = goals.summary(goals.measure(held, rules_tiers))
    for t in thresholds:
        out[f"starter@{t}"] = goals.summary(goals.measure(held, alone[t]))
        out[f"combined@{t}"] = goals.summary(goals.measure(held, combined[t]))
    return out


def _table(result: dict[str, object], keys: tuple[str, ...]) -> str:
    lines = []
    for name, groups in result.items():
        if not isinstance(groups, dict):
            continue
        for lang, entry in groups.items():
            if "goals" not in entry and "/" in lang:
                continue
            cells = []
            for key in keys:
                rate = entry["rates"][key]
                value = "—" if rate["value"] is None else f"{rate['value']:.2f}"
                ci = rate["ci"] or [0, 0]
                cells.append(f"{value} [{ci[0]:.2f},{ci[1]:.2f}] {rate['hits']}/{rate['n']}")
            lines.append(f"{name:<16}{lang:<8}" + " | ".join(cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("which", nargs="?", default="both", choices=["cv", "batches", "both"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    keys = ("threat_recall", "p1_recall", "calm_urgent", "negative_urgent")
    out: dict[str, object] = {}
    started = time.perf_counter()
    if args.which in ("cv", "both"):
        cv = starter.folds()
        chosen = starter.choose(cv)
        out["cv"] = {
            "chosen_threshold": chosen.threshold if chosen else None,
            **{
                f"{name}@{t}": goals.summary(groups)
                for t in starter.THRESHOLDS
                for name, groups in starter.figures(cv, t).groups.items()
                if name != "rules" or t == starter.THRESHOLDS[0]
            },
        }
        for t in starter.THRESHOLDS:
            print(starter.render(starter.figures(cv, t)))
        print(
            "chosen threshold (lowest with calm P1/P2 <= 5 % in every language): "
            f"{out['cv']['chosen_threshold']}"
        )
    if args.which in ("batches", "both"):
        thresholds = tuple(sorted({0.7, 0.8, starter.RAISE_CONFIDENCE, 0.9}))
        out["batches"] = batches(thresholds)
        print(
            "rules as before each batch, on the batch; starter trained on every other batch; "
            f"keys {keys}"
        )
        print(
            _table(
                {k: v for k, v in out["batches"].items() if k not in ("batches", "sentences")}, keys
            )
        )
    out["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
