"""Learned triage model benchmark (issue 20): training time on 100,000 synthetic closed reports,
and scoring p50 for a ~2 KB report with the rules alone and with the rules plus the model.

Reports are synthetic sentences describing behaviour (``tipline.triage.synthetic``), ~500
characters each; the rules score each first (their signals are features), as training does.
Baselines measured in the same run: the rules alone on the same 2 KB text (scoring), and the
rules' pass over the training texts (a fixed reference step: its code does not change with the
learning layer's, so ``training_to_rules_pass`` compares runs made at different loads).
``--learned DIR/learned.py`` trains with another copy of ``triage/learned.py`` (and of
``char_ngrams.py`` when one sits beside it), for example the previous commit's from ``git show``,
so that before and after are measured back to back on the same texts; ``--profile`` prints
where training spends its time.

    .venv/bin/python benchmarks/triage_train.py [--reports 100000] [--json] [--profile]
        [--learned /tmp/before/learned.py]
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import json
import os
import platform
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tipline.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile training (to stderr)")
    parser.add_argument("--learned", type=Path, help="train with this copy of learned.py")
    args = parser.parse_args()

    from tipline.triage import engine, learned, synthetic

    if args.learned:
        spec = importlib.util.spec_from_file_location("learned_under_test", args.learned)
        assert spec is not None
        assert spec.loader is not None
        learned = importlib.util.module_from_spec(spec)  # type: ignore[assignment]
        sys.modules[spec.name] = learned  # dataclasses look their module up by name
        spec.loader.exec_module(learned)
        beside = args.learned.parent / "char_ngrams.py"  # that commit's n-gram hashing, if given
        if beside.exists():
            spec = importlib.util.spec_from_file_location("char_ngrams_under_test", beside)
            assert spec is not None
            assert spec.loader is not None
            hashing = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(hashing)
            learned.char_ngrams = hashing  # type: ignore[attr-defined]

    rules = engine.Engine.from_files(
        sorted((engine.DATA / "rules").glob("*.yaml")), engine.DATA / "scoring.yaml"
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    examples = [
        learned.TrainingExample(text, rules.score(text), tier)
        for text, tier in synthetic.reports(args.reports)
    ]
    rule_seconds = time.perf_counter() - started
    rule_cpu_seconds = time.process_time() - cpu_started
    sys.stderr.write(f"rules scored {len(examples)} reports in {rule_seconds:.1f} s\n")
    profiler = cProfile.Profile() if args.profile else None
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    model = learned.train(examples, version="bench")
    train_seconds = time.perf_counter() - started
    # CPU seconds of this process (all its threads): steadier than wall time on a shared machine.
    train_cpu_seconds = time.process_time() - cpu_started
    if profiler is not None:
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        sys.stderr.write(out.getvalue())
    sys.stderr.write(f"trained in {train_seconds:.1f} s\n")
    size = len(model.to_bytes())

    text = " ".join(t for t, _ in synthetic.reports(8, seed=99))[:2048]
    rules_times, model_times = [], []
    for _ in range(2000):
        t0 = time.perf_counter()
        score = rules.score(text)
        t1 = time.perf_counter()
        model.opinion(text, score)
        t2 = time.perf_counter()
        rules_times.append(t1 - t0)
        model_times.append(t2 - t0)
    figures = {
        "reports": args.reports,
        "learned": str(args.learned) if args.learned else "triage/learned.py",
        "rules_scoring_s": round(rule_seconds, 1),
        "rules_scoring_cpu_s": round(rule_cpu_seconds, 1),
        "training_s": round(train_seconds, 1),
        "training_cpu_s": round(train_cpu_seconds, 1),
        "total_s": round(rule_seconds + train_seconds, 1),
        "model_bytes": size,
        "vocabulary": len(model.word_vocabulary) + len(model.char_hashes),
        "score_2kb_p50_ms_rules": round(statistics.median(rules_times) * 1000, 3),
        "score_2kb_p50_ms_rules_and_model": round(statistics.median(model_times) * 1000, 3),
        "score_2kb_p99_ms_rules_and_model": round(
            statistics.quantiles(model_times, n=100)[98] * 1000, 3
        ),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    figures["training_to_rules_pass"] = round(train_seconds / rule_seconds, 2)
    figures["training_to_rules_pass_cpu"] = round(train_cpu_seconds / rule_cpu_seconds, 2)
    figures["ratio_model_to_rules"] = round(
        figures["score_2kb_p50_ms_rules_and_model"] / figures["score_2kb_p50_ms_rules"], 2
    )
    if args.json:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        for key, value in figures.items():
            sys.stdout.write(f"{key:36} {value}\n")


if __name__ == "__main__":
    import django

    django.setup()
    main()
