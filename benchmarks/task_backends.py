"""Task backends for the scale-out profile (issue 19): enqueue and execute rates of a no-op task.

Measures, in one run on one machine, N no-op tasks through each candidate, with the database
backend (django-tasks-db, the embedded default) as the baseline:

* ``db``      django-tasks-db on the configured database (baseline)
* ``redis``   django-tasks-redis 0.4.0 (Redis Streams, consumer group, ack after the run)
* ``outbox``  Tipline's outbox row + ``tipline task_relay`` pass + django-tasks-redis worker
* ``celery``  django-tasks-celery 0.1.1 on Celery 5.6 with a Redis broker and result backend,
              acks_late (at least once, as the brief asks), one solo-pool worker thread; only
              if celery is importable (it is not a Tipline dependency; see docs/deployment.md)

Each task increments a Redis counter (the same cost for all), so the drain ends when the counter
reaches N. One enqueuing thread, one worker: the figures are per process.

    scripts/with-postgres -- .venv/bin/python benchmarks/task_backends.py [--tasks 2000]
    # celery too: pip install --target /tmp/h19celery django-tasks-celery==0.1.1 celery==5.6.3 ...
    PYTHONPATH=/tmp/h19celery scripts/with-postgres -- .venv/bin/python benchmarks/task_backends.py

A redis-server (Debian's) is started on a free loopback port in a temporary folder, with the
append-only file fsynced every second (``--appendfsync everysec``, the usual production choice).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import django  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402

REDIS_URL = ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [shutil.which("redis-server") or "/usr/bin/redis-server", "--bind", "127.0.0.1",
         "--port", str(port), "--dir", str(folder), "--save", "", "--appendonly", "yes",
         "--appendfsync", "everysec", "--logfile", str(folder / "redis.log")]
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            client.ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def _configure(redis_url: str, folder: Path) -> None:
    import dj_database_url

    database = (
        dj_database_url.parse(os.environ["DATABASE_URL"])
        if os.environ.get("DATABASE_URL")
        else {"ENGINE": "django.db.backends.sqlite3", "NAME": str(folder / "bench.sqlite3")}
    )
    queues = ["default"]
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django_tasks_db", "tipline.outbox"],
        DATABASES={"default": database},
        USE_TZ=True,
        TIPLINE_TASKS="redis",
        TIPLINE_PERIODIC_BACKEND=None,
        TASKS={
            "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": queues},
            "outbox": {"BACKEND": "tipline.outbox.backend.OutboxBackend", "QUEUES": queues},
            "redis": {
                "BACKEND": "django_tasks_redis.RedisTaskBackend",
                "QUEUES": queues,
                "OPTIONS": {"REDIS_URL": redis_url, "REDIS_BLOCK_TIMEOUT": 0},
            },
            "celery": {"BACKEND": "django_tasks_celery.CeleryBackend", "QUEUES": queues},
        },
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


COUNTER = "bench:done"
_CLIENT: list[redis.Redis] = []


def _client() -> redis.Redis:
    if not _CLIENT:
        _CLIENT.append(redis.Redis.from_url(os.environ["BENCH_REDIS_URL"]))
    return _CLIENT[0]


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _wait_done(n: int) -> None:
    while int(_client().get(COUNTER) or 0) < n:
        time.sleep(0.005)


def bench(alias: str, task: Any, n: int) -> dict[str, float]:
    from django.core.management import call_command
    from django_tasks_redis import executor

    from tipline.outbox import relay

    _client().set(COUNTER, 0)
    bound = task.using(backend=alias)
    enqueue = _timed(lambda: [bound.enqueue(i) for i in range(n)])
    result: dict[str, float] = {"enqueue_per_s": n / enqueue}
    if alias == "default":
        run = _timed(lambda: call_command("db_worker", batch=True, no_startup_delay=True,
                                          interval=0, verbosity=0))  # fmt: skip
    elif alias == "redis":
        run = _timed(lambda: executor.process_tasks(backend_name="redis"))
    elif alias == "outbox":
        moved = _timed(lambda: relay.run(relay_to="redis", interval=0, batch=200, once=True))
        result["relay_per_s"] = n / moved
        run = _timed(lambda: executor.process_tasks(backend_name="redis"))
        result["end_to_end_per_s"] = n / (enqueue + moved + run)
    else:
        from celery import Celery
        from celery.contrib.testing.worker import start_worker

        app = _celery_app()
        assert isinstance(app, Celery)

        def drain() -> None:
            with start_worker(app, pool="solo", perform_ping_check=False, concurrency=1):
                _wait_done(n)

        run = _timed(drain)
    _wait_done(n)
    result["execute_per_s"] = n / run
    return result


_APP: list[Any] = []


def _celery_app() -> Any:
    if not _APP:
        from celery import Celery

        app = Celery(
            "bench", broker=settings.CELERY_BROKER_URL, backend=settings.CELERY_RESULT_BACKEND
        )
        app.conf.update(
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            worker_prefetch_multiplier=1,
            result_extended=True,
            broker_connection_retry_on_startup=True,
        )
        app.set_current()
        app.set_default()
        _APP.append(app)
    return _APP[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-tasks-"))
    proc, url = _start_redis(folder)
    os.environ["BENCH_REDIS_URL"] = url
    try:
        _configure(url, folder)
        from task_noop import noop as noop_task

        try:
            import celery  # noqa: F401

            has_celery = True
            _celery_app()
        except ImportError:
            has_celery = False
        figures: dict[str, Any] = {}
        figures["db"] = bench("default", noop_task, args.tasks)
        figures["redis"] = bench("redis", noop_task, args.tasks)
        figures["outbox"] = bench("outbox", noop_task, args.tasks)
        if has_celery:
            figures["celery"] = bench("celery", noop_task, args.tasks)
        else:
            figures["celery"] = "not installed (see the docstring)"
        base = figures["db"]
        for row in figures.values():
            if isinstance(row, dict):
                row["enqueue_vs_db"] = row["enqueue_per_s"] / base["enqueue_per_s"]
                row["execute_vs_db"] = row["execute_per_s"] / base["execute_per_s"]
        meta = {
            "tasks": args.tasks,
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "python": platform.python_version(),
            "loadavg": os.getloadavg(),
            "cpus": os.cpu_count(),
        }
        if args.json:
            print(json.dumps({"meta": meta, "figures": figures}, indent=2))
            return
        print(f"{meta}")
        print(
            f"{'backend':8} {'enqueue/s':>10} {'execute/s':>10} {'enq/db':>7} {'exe/db':>7}  other"
        )
        for name, row in figures.items():
            if not isinstance(row, dict):
                print(f"{name:8} {row}")
                continue
            other = {
                k: round(v) for k, v in row.items() if k in ("relay_per_s", "end_to_end_per_s")
            }
            print(
                f"{name:8} {row['enqueue_per_s']:10.0f} {row['execute_per_s']:10.0f} "
                f"{row['enqueue_vs_db']:7.2f} {row['execute_vs_db']:7.2f}  {other or ''}"
            )
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
