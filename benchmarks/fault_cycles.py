"""Fault cycles (issue 19): kill -9 at random moments under load, then check that nothing
acknowledged was lost.

A load generator files reports with photos (the PDQ reference photos of ../shared/data/pdq, some
of them in a hash bank) through the JSON API while this script SIGKILLs, at random moments and
in random order, a gunicorn worker, the gunicorn master, a task worker and (scale-out) the
relay; each killed unit is started again within a second, as systemd's ``Restart=always`` does
(docs/deployment.md). On the scale-out profile it then restarts PostgreSQL once, stops Redis for
a while once and stops SeaweedFS for a while once, all under load. At the end, when the queues
have drained: every report that got a 201 is present, its text and files decrypt, it is triaged,
each file is hashed and matched exactly once (bank photos one match, others none), and
`tipline doctor` is clean.

    scripts/with-postgres -- .venv/bin/python benchmarks/fault_cycles.py --cycles 20
    .venv/bin/python benchmarks/fault_cycles.py --profile embedded --cycles 20

Profiles: ``scale-out`` is PostgreSQL (scripts/with-postgres, which also gives the data directory
that PostgreSQL restarts use), TIPLINE_TASKS=redis with a redis-server of its own, evidence on a
SeaweedFS of its own (TIPLINE_STORAGE=s3); the units are `tipline serve --no-worker --no-front`
(web), `task_relay`, two `run_redis_tasks` workers (triage, default) and the two periodic
`db_worker`s, as docs/deployment.md lays them out. ``embedded`` is SQLite, local storage and the
three `db_worker`s (triage, default, webhooks) that `tipline serve` would start; its kills are the
gunicorn worker, the gunicorn master and a task worker (no relay, nothing else to stop).

Prints one line per event and, at the end, the figures as JSON. The script's verdict is its exit
status: 0 when no acknowledged report is missing or incomplete and the doctor is clean.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live import TIPLINE, LiveServer  # noqa: E402
from tests.pdq_data import pdq_data  # noqa: E402
from tests.pgserver import pg_restart  # noqa: E402
from tests.redisserver import RedisServer  # noqa: E402
from tests.seaweed import SeaweedS3  # noqa: E402

PDQ = pdq_data()  # ../shared beside the checkout, or the machine's shared folder
# Photos in the bank: each upload of one must be matched exactly once. The others: never (two of
# them have a PDQ quality too low to be matched at all, as a blurred photo would).
_LABELME = sorted((PDQ / "reg-test-input" / "labelme-subset").glob("*.jpg"))
BANK_PHOTOS = [p for p in _LABELME if p.stem in ("q0122", "q0291", "q0746", "q1050")]
OTHER_PHOTOS = [*(p for p in _LABELME if p not in BANK_PHOTOS), PDQ / "misc-images" / "c.png"]
RESTART_DELAY = 1.0  # seconds between a unit's death and its restart (systemd RestartSec=1)


def log(message: str) -> None:
    sys.stdout.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stdout.flush()


# --- Units: processes started again when they die, as systemd would ----------------------------


@dataclass
class Unit:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        out = (self.log_dir / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        # Children a SIGKILLed parent left behind (a gunicorn master's workers) exit by
        # themselves; anything still in the group goes now.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


class Supervisor(threading.Thread):
    def __init__(self, units: list[Unit]) -> None:
        super().__init__(daemon=True)
        self.units = units
        self.halt = threading.Event()
        self.restarts: Counter[str] = Counter()

    def run(self) -> None:
        dead_since: dict[str, float] = {}
        while not self.halt.wait(0.1):
            for unit in self.units:
                if unit.alive():
                    dead_since.pop(unit.name, None)
                    continue
                since = dead_since.setdefault(unit.name, time.monotonic())
                if time.monotonic() - since >= RESTART_DELAY:
                    unit.start()
                    self.restarts[unit.name] += 1
                    dead_since.pop(unit.name, None)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def gunicorn_master(web: Unit) -> int | None:
    if web.proc is None:
        return None
    found = [p for p in children(web.proc.pid) if b"gunicorn" in cmdline(p)]
    return found[0] if found else None


# --- Load: reports with photos through the JSON API ---------------------------------------------


@dataclass
class Load:
    url: str
    threads: int
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)
    last_ack: float = 0.0
    acks_at: list[float] = field(default_factory=list)
    # (sent, answered, answer) of every request: what each outage window saw, and how long
    # requests sent in it took (a request that hangs shows here, not in the counts).
    timeline: list[tuple[float, float, str]] = field(default_factory=list)
    halt: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run_one(self, n: int) -> None:
        rng = random.Random(n)
        photos = rng.sample([*BANK_PHOTOS, *OTHER_PHOTOS], k=rng.choice((1, 2)))
        files = [
            ("attachments", (f"photo-{n}-{i}{p.suffix}", p.read_bytes()))
            for i, p in enumerate(photos)
        ]
        data = {
            "category": "cyberstalking",
            "what_happened": f"Report {n}: the same account keeps sending photos of my street.",
        }
        sent = time.monotonic()
        try:
            answer = httpx.post(self.url + "/api/v1/reports", data=data, files=files, timeout=60)
        except httpx.HTTPError as exc:
            with self.lock:
                self.answers[type(exc).__name__] += 1
                self.timeline.append((sent, time.monotonic(), type(exc).__name__))
            time.sleep(0.5)  # the web unit is being restarted: a client would wait too
            return
        with self.lock:
            self.answers[str(answer.status_code)] += 1
            self.timeline.append((sent, time.monotonic(), str(answer.status_code)))
            if answer.status_code == 201:
                self.last_ack = time.monotonic()
                self.acks_at.append(self.last_ack)
                self.acknowledged.append(
                    {
                        "receipt": answer.json()["receipt"],
                        "n": n,
                        "bank": [p.name for p in photos if p in BANK_PHOTOS],
                        "others": [p.name for p in photos if p not in BANK_PHOTOS],
                    }
                )

    def worker(self, start: int) -> None:
        n = start
        while not self.halt.is_set():
            self.run_one(n)
            n += self.threads
            time.sleep(0.05)

    def start(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self.worker, args=(i,), daemon=True)
            for i in range(self.threads)
        ]
        for t in threads:
            t.start()
        return threads


# --- The verdict, read inside the installation --------------------------------------------------

VERIFY = """
import json
from tipline import crypto, storage
from tipline.cases import selectors
from tipline.cases.access import report_by_receipt, ReportNotFound
from tipline.cases.models import EvidenceFile, TriageResult
from tipline.cases.sealing import report_key
from tipline.crypto.sealed import open_json
from tipline.cases.states import KeyPurpose
from tipline.matching.models import FileMatch
acked = json.load(open(ACKED_PATH))
out = {"acknowledged": len(acked), "present": 0, "decrypted": 0, "triaged": 0, "files": 0,
       "files_hashed": 0, "files_matched_right": 0, "problems": []}
for item in acked:
    try:
        report = report_by_receipt(item["receipt"])
    except ReportNotFound:
        out["problems"].append(f"report {item['n']} missing"); continue
    out["present"] += 1
    if selectors.report_details(report)["what_happened"].startswith(f"Report {item['n']}:"):
        out["decrypted"] += 1
    else:
        out["problems"].append(f"report {item['n']} text wrong")
    if TriageResult.objects.filter(report=report).count() == 1:
        out["triaged"] += 1
    key = report_key(report.id, KeyPurpose.CONTENT)
    rows = list(EvidenceFile.objects.filter(report=report))
    if len(rows) != len(item["bank"]) + len(item["others"]):
        out["problems"].append(f"report {item['n']}: {len(rows)} file rows")
    expected_matches = len(item["bank"])
    matches = 0
    for row in rows:
        crypto.open_sealed(key, storage.read_object(row.object_id),
                           context=crypto.context("file", row.id, "data"))
        out["files"] += 1
        meta = open_json(key, row.meta, context=crypto.context("file", row.id, "meta"))
        if "md5" in meta:
            out["files_hashed"] += 1
        matches += FileMatch.objects.filter(evidence=row).count()
    if matches == expected_matches:
        out["files_matched_right"] += len(rows)
    else:
        out["problems"].append(f"report {item['n']}: {matches} matches, not {expected_matches}")
print("VERIFY " + json.dumps(out))
"""


def tipline(
    server: LiveServer, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TIPLINE, *args],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def verify(server: LiveServer, acked: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    path = work / "acked.json"
    path.write_text(json.dumps(acked))
    done = tipline(server, "shell", "-c", VERIFY.replace("ACKED_PATH", repr(str(path))))
    if done.returncode != 0 or "VERIFY " not in done.stdout:
        return {"error": (done.stderr or done.stdout)[-2000:]}
    result: dict[str, Any] = json.loads(done.stdout.split("VERIFY ", 1)[1])
    return result


def complete(v: dict[str, Any]) -> bool:
    n = v.get("acknowledged", -1)
    files = v.get("files", -1)
    return (
        not v.get("problems")
        and v.get("present") == v.get("decrypted") == v.get("triaged") == n
        and v.get("files_hashed") == v.get("files_matched_right") == files
    )


# --- The run -------------------------------------------------------------------------------------


def bank_csv(path: Path) -> Path:
    expected = {}
    for line in (PDQ / "expected-pdq.tsv").read_text().splitlines()[1:]:
        name, pdq = line.split("\t")
        expected[Path(name).name] = pdq
    path.write_text("kind,value\n" + "".join(f"pdq,{expected[p.name]}\n" for p in BANK_PHOTOS))
    return path


@dataclass
class Stack:
    """The units of one installation, as docs/deployment.md lays them out for the profile."""

    web: Unit
    web_url: str
    workers: list[Unit]  # what "a task worker" means: the per-report queues' workers
    relay: Unit | None
    others: list[Unit]

    @property
    def units(self) -> list[Unit]:
        return [self.web, *self.workers, *([self.relay] if self.relay else []), *self.others]


def stack_for(server: LiveServer, *, scale_out: bool) -> Stack:
    env, logs = server.env(), server.log_dir

    def unit(name: str, args: str) -> Unit:
        return Unit(name, [*TIPLINE, *args.split()], env, logs)

    web = unit("web", f"serve --no-worker --no-front --port {server.port} --workers 2")
    if not scale_out:
        db_worker = "db_worker --no-startup-delay --queue-name"
        return Stack(
            web=web,
            web_url=server.url,
            workers=[
                unit("worker-triage", f"{db_worker} triage --interval 0.2"),
                unit("worker-default", f"{db_worker} default --interval 0.5"),
            ],
            relay=None,
            others=[unit("worker-webhooks", f"{db_worker} webhooks --interval 1")],
        )
    redis = "run_redis_tasks --backend redis --continuous --interval 0.2 --claim-interval 5"
    periodic = "db_worker --backend periodic --no-startup-delay --interval 1 --queue-name"
    return Stack(
        web=web,
        web_url=server.url,
        workers=[
            unit("worker-triage", f"{redis} --queue triage"),
            unit("worker-default", f"{redis} --queue default"),
        ],
        relay=unit("relay", "task_relay --interval 0.2"),
        others=[
            unit("periodic-default", f"{periodic} default"),
            unit("periodic-webhooks", f"{periodic} webhooks"),
        ],
    )


def wait_for_web(url: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + "/en/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            sys.exit("the web unit did not start; see the logs folder")
        time.sleep(0.2)


def next_ack_after(load: Load, since: float, limit: float = 120) -> float:
    """Seconds from ``since`` to the next 201 (``limit`` if none came)."""
    while load.last_ack < since and time.monotonic() - since < limit:
        time.sleep(0.05)
    return round(max(load.last_ack - since, 0.0) if load.last_ack >= since else limit, 2)


def kill_cycles(
    stack: Stack, load: Load, *, cycles: int, rng: random.Random
) -> tuple[Counter[str], dict[str, list[float]]]:
    """SIGKILL one unit per cycle, at a random moment, every kind in turn (shuffled).

    Returns the kills by kind and, for each kind, the seconds from the kill to the next 201."""
    kinds = ["gunicorn worker", "gunicorn master", "task worker"]
    if stack.relay is not None:
        kinds.append("relay")
    order = [kinds[i % len(kinds)] for i in range(cycles)]
    rng.shuffle(order)
    kills: Counter[str] = Counter()
    gaps: dict[str, list[float]] = {}
    for cycle, kind in enumerate(order, 1):
        # Each cycle starts with everything up (a restarted `serve` takes a few seconds), then
        # strikes at a random moment of the load.
        wait_for_web(stack.web_url)
        while not all(unit.alive() for unit in stack.units):
            time.sleep(0.2)
        time.sleep(rng.uniform(0.5, 3.0))
        master = gunicorn_master(stack.web)
        if kind == "gunicorn worker" and master and children(master):
            os.kill(rng.choice(children(master)), signal.SIGKILL)  # the master starts another
        elif kind in ("gunicorn worker", "gunicorn master") and master:
            os.kill(master, signal.SIGKILL)  # `serve` sees it die, exits, and is started again
        elif kind == "task worker":
            rng.choice(stack.workers).kill9()
        elif kind == "relay" and stack.relay is not None:
            stack.relay.kill9()
        else:
            kind += " (was down already)"
        kills[kind] += 1
        gap = next_ack_after(load, time.monotonic())
        gaps.setdefault(kind, []).append(gap)
        log(f"cycle {cycle}/{cycles}: kill -9 {kind}; next 201 after {gap} s")
    return kills, gaps


def outages(
    redis_server: RedisServer, seaweed: SeaweedS3, load: Load, seconds: float
) -> dict[str, float]:
    """PostgreSQL restarted, Redis stopped a while, SeaweedFS stopped a while: one after the
    other, under load. Returns how long each took to be answered by a 201 again."""
    figures: dict[str, float] = {}

    windows: dict[str, tuple[float, float]] = {}
    time.sleep(3)
    restart = time.monotonic()
    pg_restart()
    windows["postgresql_restart"] = (restart, time.monotonic())
    figures["first_201_after_postgresql_restart_s"] = next_ack_after(load, time.monotonic())
    log("PostgreSQL restarted")
    time.sleep(5)
    redis_server.stop()
    log(f"Redis stopped for {seconds:g} s")
    down = time.monotonic()
    time.sleep(seconds)
    # The outbox takes the tasks meanwhile: intake never needed Redis.
    figures["acknowledged_while_redis_down"] = sum(1 for a in load.acks_at if a >= down)
    redis_server.start()
    windows["redis_down"] = (down, time.monotonic())
    log("Redis back")
    time.sleep(5)
    seaweed.stop()
    log(f"SeaweedFS stopped for {seconds:g} s")
    s3_down = time.monotonic()
    time.sleep(seconds)
    seaweed.start()
    windows["s3_down"] = (s3_down, time.monotonic())
    log("SeaweedFS back")
    figures["first_201_after_s3_back_s"] = next_ack_after(load, time.monotonic())
    time.sleep(3)
    figures["requests_sent_during"] = {
        name: window_answers(load, start, end) for name, (start, end) in windows.items()
    }
    return figures


def window_answers(load: Load, start: float, end: float) -> dict[str, Any]:
    """Answers to the requests sent between ``start`` and ``end``, and their slowest one."""
    with load.lock:
        sent = [(a - s, what) for s, a, what in load.timeline if start <= s < end]
    return {
        "answers": dict(Counter(what for _, what in sent)),
        "slowest_s": round(max((took for took, _ in sent), default=0.0), 2),
    }


def drain_and_verify(
    server: LiveServer, load: Load, work: Path, seconds: float
) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    while True:
        verdict = verify(server, load.acknowledged, work)
        if complete(verdict) or time.monotonic() - started > seconds:
            return verdict, round(time.monotonic() - started, 1)
        time.sleep(3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=["scale-out", "embedded"], default="scale-out")
    parser.add_argument("--cycles", type=int, default=20, help="kill -9 cycles (>= 20 to record)")
    parser.add_argument("--threads", type=int, default=2, help="load generator threads")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds Redis/S3 stay down")
    parser.add_argument("--drain", type=float, default=300.0, help="seconds allowed to drain")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()
    scale_out = args.profile == "scale-out"
    if scale_out and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("scale-out: run under scripts/with-postgres")
    if not scale_out:
        os.environ.pop("DATABASE_URL", None)  # LiveServer: SQLite in the data directory
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix=f"faults-{args.profile}-"))
    # Work a fault lost is enqueued again by the work sweep a minute after it was due (every
    # 30 s), within the drain; the doctor below then calls anything older than 2 min stuck.
    extra: dict[str, str] = {"TIPLINE_WORK_SWEEP_MINUTES": "1"}
    redis_server: RedisServer | None = None
    seaweed: SeaweedS3 | None = None
    stack: Stack | None = None
    supervisor: Supervisor | None = None
    load_av = [os.getloadavg()[0]]
    try:
        if scale_out:
            redis_server = RedisServer(root=work / "redis")
            redis_server.root.mkdir()
            redis_server.start()
            seaweed = SeaweedS3(work / "seaweed").start()
            extra = {
                **extra,
                "TIPLINE_TASKS": "redis",
                "TIPLINE_REDIS_URL": redis_server.url,
                # A task a killed worker held is handed out again after this (default 300 s).
                "TIPLINE_REDIS_CLAIM_SECONDS": "10",
                **seaweed.settings_for(seaweed.new_bucket()),
            }
        server = LiveServer(root=work / "tipline", extra_env=extra)
        server.setup()
        bank = str(bank_csv(work / "bank.csv"))
        imported = tipline(server, *f"hashes import --bank faults --format csv {bank}".split(),
                           "--create", "--classification", "baseline")  # fmt: skip
        if imported.returncode != 0:
            sys.exit(imported.stderr)
        stack = stack_for(server, scale_out=scale_out)
        for unit in stack.units:
            unit.start()
        wait_for_web(server.url)
        supervisor = Supervisor(stack.units)
        supervisor.start()
        load = Load(url=server.url, threads=args.threads)
        started = time.monotonic()
        threads = load.start()
        kills, gaps = kill_cycles(stack, load, cycles=args.cycles, rng=rng)
        load_av.append(os.getloadavg()[0])
        faults: dict[str, float] = {}
        if redis_server is not None and seaweed is not None:
            faults = outages(redis_server, seaweed, load, args.outage)
        load.halt.set()
        for t in threads:
            t.join(timeout=90)
        load_seconds = time.monotonic() - started
        log(f"load stopped: {len(load.acknowledged)} acknowledged; draining")
        verdict, drain_seconds = drain_and_verify(server, load, work, args.drain)
        supervisor.halt.set()
        supervisor.join()
        doctor = tipline(server, "doctor", "--task-minutes", "2")
        sweep = tipline(server, "storage", "sweep", "--grace-minutes", "0")
    finally:
        if supervisor is not None:
            supervisor.halt.set()
            supervisor.join(timeout=10)
        for unit in stack.units if stack else []:
            unit.stop()
        if seaweed is not None:
            seaweed.stop()
        if redis_server is not None:
            redis_server.stop()
    figures = {
        "profile": args.profile,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_1min": {"start": load_av[0], "after_kills": load_av[-1]},
        "cycles": args.cycles,
        "kills": dict(kills),
        # Seconds from each kill to the next acknowledged report (the client's view of it).
        "next_201_after_kill_s": {
            k: {"max": max(v), "median": sorted(v)[len(v) // 2]} for k, v in gaps.items()
        },
        "restarts": dict(supervisor.restarts),
        "load_seconds": round(load_seconds, 1),
        "answers": dict(load.answers),
        "acknowledged_per_s": round(len(load.acknowledged) / load_seconds, 2),
        **faults,
        "drain_seconds": drain_seconds,
        "verdict": verdict,
        "complete": complete(verdict),
        "doctor": doctor.stdout.strip() + doctor.stderr.strip()[-500:],
        "doctor_clean": doctor.returncode == 0,
        # Uploads a SIGKILL cut short: written, never recorded (`storage sweep --apply` removes
        # them after the grace period; doctor counts only those older than it).
        "objects_without_row": (sweep.stdout.strip().splitlines() or ["?"])[-1],
    }
    print(json.dumps(figures, indent=2))
    ok = bool(figures["complete"] and figures["doctor_clean"])
    if args.keep or not ok:
        log(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
