"""Fuzz every evidence-log import path (issue 6): only ParseError may escape `parse()`.

For each path, Hypothesis generates a corpus (structure-aware exports: WhatsApp lines with random
dates and clocks, Telegram/Meta JSON with hostile values, SMS XML, e-mail headers; plus mutated
fixtures), then a fast seeded mutator (flips, inserts, deletes, splices of format tokens,
truncations, repeats) derives the rest from that corpus until the path has had --inputs inputs.
Counts and every unhandled exception (type, message, and the input saved under --crashes) are
printed; the exit status is 1 if there was any.

    .venv/bin/python benchmarks/evidence_fuzz.py [--inputs 100000] [--corpus 1000] [--path NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.strategies import SearchStrategy  # noqa: E402
from tests.locker.parsers.strategies import TOKENS, import_paths  # noqa: E402

from tipline.locker.parsers import parse  # noqa: E402
from tipline.locker.types import ParseError  # noqa: E402


def generate_corpus(strategy: SearchStrategy[bytes], count: int) -> list[bytes]:
    corpus: list[bytes] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=strategy)
    def collect(data: bytes) -> None:
        corpus.append(data)

    collect()
    return corpus


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(7)
        at = rng.randint(0, len(out))
        if op == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            out[at:at] = rng.randbytes(rng.randint(1, 16))
        elif op == 2:
            del out[at : at + rng.randint(1, 64)]
        elif op in (3, 4):
            out[at:at] = rng.choice(TOKENS)
        elif op == 5:
            del out[at:]
        else:
            out[at:at] = out[at : at + rng.randint(1, 200)] * rng.randint(1, 4)
    return bytes(out)


def fuzz_path(
    name: str, strategy: SearchStrategy[bytes], inputs: int, corpus_size: int, crashes: Path
) -> dict[str, Any]:
    started = time.perf_counter()
    corpus = generate_corpus(strategy, corpus_size)
    rng = random.Random(f"evidence-fuzz:{name}")
    outcome: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    failures: list[dict[str, str]] = []
    for number in range(inputs):
        data = corpus[number] if number < len(corpus) else mutate(rng, rng.choice(corpus))
        try:
            result = parse(data, "input")
        except ParseError:
            outcome["refused (ParseError)"] += 1
            continue
        except Exception as error:  # noqa: BLE001 - the point is to catch what should not escape
            outcome["UNHANDLED"] += 1
            digest = hashlib.sha256(data).hexdigest()[:16]
            crashes.mkdir(parents=True, exist_ok=True)
            (crashes / f"{name}-{digest}.bin").write_bytes(data)
            failures.append(
                {
                    "type": type(error).__name__,
                    "message": str(error)[:200],
                    "input": str(crashes / f"{name}-{digest}.bin"),
                    "where": traceback.format_exc().strip().splitlines()[-3].strip(),
                }
            )
            continue
        outcome["parsed"] += 1
        formats[result.format] += 1
    return {
        "path": name,
        "inputs": inputs,
        "hypothesis_corpus": len(corpus),
        **dict(outcome),
        "parsed_as": dict(formats),
        "seconds": round(time.perf_counter() - started, 1),
        "unhandled": failures[:20],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs per import path")
    parser.add_argument("--corpus", type=int, default=1_000, help="Hypothesis examples per path")
    parser.add_argument("--path", action="append", help="only this path (repeatable)")
    parser.add_argument("--crashes", type=Path, default=ROOT / "test-artifacts" / "fuzz-crashes")
    options = parser.parse_args(argv)
    paths = import_paths()
    total = 0
    unhandled = 0
    for name, strategy in paths.items():
        if options.path and name not in options.path:
            continue
        figure = fuzz_path(name, strategy, options.inputs, options.corpus, options.crashes)
        total += figure["inputs"]
        unhandled += figure.get("UNHANDLED", 0)
        print(json.dumps(figure, ensure_ascii=False), flush=True)
    print(json.dumps({"total_inputs": total, "unhandled": unhandled}))
    return 1 if unhandled else 0


if __name__ == "__main__":
    sys.exit(main())
