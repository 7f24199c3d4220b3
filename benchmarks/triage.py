"""Triage benchmark (issue 5): how fast reports and chat messages are scored.

Scoring: p50/p99 per ~2 KB report, one 1 MB report, and bulk messages/s through score_messages,
with same-run floors (a plain str.casefold() pass, and normalisation alone) so figures from
different machines can be compared. Texts are built from written benign sentences plus a few
rule phrases, so rules do fire.

    .venv/bin/python benchmarks/triage.py [--json] [--reports 2000] [--messages 100000]
        [--baseline-rules DIR] [--starter]

--starter scores the same ~2 KB reports with the rules alone and with the rules plus the starter
model's opinion (triage/starter.py, what a new installation runs), interleaved, and prints both
p50/p99 and their ratio (issue 20: p50 stays under 2 ms with the starter on).

--baseline-rules DIR scores the same reports, in the same run, with the rule files of another
version (DIR holds `rules/*.yaml` and `scoring.yaml`, the layout of `triage/data`; for example
`git archive main src/tipline/triage/data | tar -x -C /tmp/old`), and prints the ratio: the
issue-20 rule rebuild is measured against the rules it replaced on the same machine and load.

Other parts (identifier linking) add a function beside `bench_scoring` and a line in `main`.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from tipline.triage import engine
from tipline.triage.normalise import normalise

BENIGN = [
    "I found this account while looking at comments under a gaming video.",
    "The messages started in March and I kept screenshots of all of them.",
    "My neighbour helped me write down the usernames and the dates.",
    "The school counsellor said I should report it here as well.",
    "He used a profile picture of a cartoon dog and a made-up name.",
    "I am not sure if this is the right place but I wanted someone to know.",
    "The website has a contact form and an address in another country.",
    "Thank you for reading this, I can answer questions by email.",
    "Mon fils a reçu des messages étranges sur un jeu en ligne.",
    "मैंने सारे संदेशों के स्क्रीनशॉट रख लिए हैं।",
    "We changed the password and turned on two-factor sign-in afterwards.",
    "She showed me the chat on her tablet after dinner 😟.",
]
SIGNS = [
    "he keeps messaging her every day",
    "he asked how old are you",
    "he said don't tell your parents",
    "he wants to meet her tonight",
    "my 13 year old son",
    "pay me or I will send them to your family",
    "I know where you live",
]
CHAT = [
    "hey",
    "what are you doing",
    "lol ok",
    "see you at practice",
    "did you finish the homework?",
    "how old are you",
    "send me a selfie",
    "don't tell anyone ok",
    "good night 🙂",
    "that game was so fun",
    "are your parents home",
    "k",
]


def _report(rng: random.Random, size: int = 2048) -> str:
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < size:
        parts.append(rng.choice(SIGNS) if rng.random() < 0.1 else rng.choice(BENIGN))
    return " ".join(parts)[:size]


def _timings(function: Callable[[str], object], texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        started = time.perf_counter()
        function(text)
        out.append(time.perf_counter() - started)
    return out


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 4)


def bench_baseline(reports: int, directory: Path) -> dict[str, object]:
    """p50/p99 per ~2 KB report with both rule versions, on the same texts, interleaved."""
    rng = random.Random(5)
    texts = [_report(rng) for _ in range(reports)]
    current = engine.load()
    baseline = engine.Engine.from_files(
        sorted((directory / "rules").glob("*.yaml")), directory / "scoring.yaml"
    )
    for text in texts[:50]:  # warm caches
        current.score(text)
        baseline.score(text)
    new_t: list[float] = []
    old_t: list[float] = []
    for text in texts:  # interleaved, so a burst of load on the machine hits both alike
        new_t += _timings(current.score, [text])
        old_t += _timings(baseline.score, [text])
    return {
        "rules": len(current.ruleset.rules),
        "baseline_rules": len(baseline.ruleset.rules),
        "score_p50_ms": _ms(new_t, 0.5),
        "baseline_score_p50_ms": _ms(old_t, 0.5),
        "score_p99_ms": _ms(new_t, 0.99),
        "baseline_score_p99_ms": _ms(old_t, 0.99),
        "p50_ratio_new_over_baseline": round(_ms(new_t, 0.5) / max(_ms(old_t, 0.5), 1e-6), 2),
    }


def bench_starter(reports: int) -> dict[str, object]:
    """p50/p99 per ~2 KB report, rules alone and rules + the starter model, interleaved."""
    from tipline.triage import learned, starter

    rng = random.Random(5)
    texts = [_report(rng) for _ in range(reports)]
    rules = engine.load()
    model = starter.model()
    if model is None:
        raise SystemExit("no starter model: tipline triage train --starter")

    def with_starter(text: str) -> object:
        score = rules.score(text)
        return learned.combine(score.tier, starter.opinion(text))

    for text in texts[:50]:  # warm caches
        with_starter(text)
    alone_t: list[float] = []
    both_t: list[float] = []
    for text in texts:
        alone_t += _timings(rules.score, [text])
        both_t += _timings(with_starter, [text])
    return {
        "starter": model.version,
        "rules_p50_ms": _ms(alone_t, 0.5),
        "rules_p99_ms": _ms(alone_t, 0.99),
        "rules_and_starter_p50_ms": _ms(both_t, 0.5),
        "rules_and_starter_p99_ms": _ms(both_t, 0.99),
        "p50_ratio_with_over_without": round(_ms(both_t, 0.5) / max(_ms(alone_t, 0.5), 1e-6), 2),
    }


def bench_scoring(reports: int, messages: int) -> dict[str, object]:
    rng = random.Random(5)
    started = time.perf_counter()
    loaded = engine.load()
    load_s = time.perf_counter() - started
    texts = [_report(rng) for _ in range(reports)]
    for text in texts[:50]:  # warm caches
        loaded.score(text)
    score_t = _timings(loaded.score, texts)
    norm_t = _timings(normalise, texts)
    fold_t = _timings(str.casefold, texts)
    big = (" ".join(BENIGN) + " ") * (1_000_000 // (len(" ".join(BENIGN)) + 1) + 1)
    big = big[:1_000_000] + " he wants to meet her tonight"
    started = time.perf_counter()
    big_result = loaded.score(big)
    big_s = time.perf_counter() - started
    chat = [rng.choice(CHAT) for _ in range(messages)]
    started = time.perf_counter()
    loaded.score_messages(chat)
    bulk_s = time.perf_counter() - started
    started = time.perf_counter()
    for message in chat:
        message.casefold()
    fold_bulk_s = time.perf_counter() - started
    return {
        "rules": len(loaded.ruleset.rules),
        "languages": list(loaded.ruleset.languages),
        "rules_version": loaded.version,
        "load_s": round(load_s, 3),
        "report_bytes": round(statistics.mean(len(t.encode()) for t in texts)),
        "reports": reports,
        "score_p50_ms": _ms(score_t, 0.5),
        "score_p99_ms": _ms(score_t, 0.99),
        "normalise_p50_ms": _ms(norm_t, 0.5),
        "casefold_p50_ms": _ms(fold_t, 0.5),
        "score_over_casefold_p50": round(_ms(score_t, 0.5) / max(_ms(fold_t, 0.5), 1e-6), 1),
        "one_mb_score_s": round(big_s, 3),
        "one_mb_fired": sorted(r.rule for r in big_result.reasons),
        "messages": messages,
        "messages_per_s": round(messages / bulk_s),
        "casefold_messages_per_s": round(messages / fold_bulk_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument(
        "--baseline-rules",
        type=Path,
        metavar="DIR",
        help="also score with the rule files in DIR (rules/*.yaml, scoring.yaml) and compare",
    )
    parser.add_argument(
        "--starter", action="store_true", help="also time the starter model with the rules"
    )
    args = parser.parse_args()
    results: dict[str, object] = {
        "machine": f"{platform.machine()} python {platform.python_version()}",
        "scoring": bench_scoring(args.reports, args.messages),
        # "linking": added by the identifier-linking work.
    }
    if args.baseline_rules:
        results["against_baseline_rules"] = bench_baseline(args.reports, args.baseline_rules)
    if args.starter:
        results["starter"] = bench_starter(args.reports)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for section, figures in results.items():
        if isinstance(figures, dict):
            print(f"[{section}]")
            for key, value in figures.items():
                print(f"  {key}: {value}")
        else:
            print(f"{section}: {figures}")


if __name__ == "__main__":
    main()
