#!/usr/bin/env python3
"""Console benchmark (issue 3): the queue and the case view with a million reports, and
``tipline audit verify`` over a million audit entries.

Targets: queue page p50 < 150 ms of server time for every filter, on the first page and on a deep
page reached by cursor; case view p50 < 100 ms; audit verify of 1,000,000 entries < 30 s.

What it does, in one process:

1. creates a fresh database next to the one in DATABASE_URL (PostgreSQL) and migrates it;
2. seeds ``--audit`` audit entries with a valid HMAC chain (computed with the helpers that
   ``tipline.audit.chain.record`` uses) in bulk with ``COPY``;
3. seeds ``--reports`` reports in bulk with ``COPY``: categories weighted, tier and priority from
   the category defaults (a fifth nudged by triage), states mostly new / in review / closed, ages
   over 90 days, ~30 countries (a quarter not said), some assigned to five analysts. Their sealed
   blobs are random bytes: the queue never opens them. Then ``VACUUM ANALYZE``;
4. files 20 real reports through ``tipline.cases.actions.report_create`` (so decryption works);
5. signs an analyst in through the real password + TOTP steps and times, through
   ``django.test.Client`` (middleware, session, query and template, all inside this process):
   the queue's first page and a deep page (a cursor half-way down that filter's queue) for each
   filter, and the case view of the real reports;
6. for each queue query, runs the same SQL (the 51-row SELECT Django sends) raw on a cursor,
   the baseline for the overhead ratio; with ``--explain`` prints each plan's scans;
7. times ``chain.verify()`` over the whole audit log.

Usage (from the repository root)::

    scripts/with-postgres -- .venv/bin/python benchmarks/console.py             # 1M + 1M
    scripts/with-postgres -- .venv/bin/python benchmarks/console.py --quick     # < 60 s
    scripts/with-postgres -- .venv/bin/python benchmarks/console.py --explain
    .venv/bin/python benchmarks/console.py --quick                  # SQLite smoke run only
    ... --json > results.json                                        # tables go to stderr
    ... --drop-new-indexes                                           # "before" run, for comparison
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

QUEUE_TARGET_MS = 150.0
CASE_TARGET_MS = 100.0
VERIFY_TARGET_S = 30.0
REAL_REPORTS = 20
NEW_INDEXES = ("report_queue_category", "report_queue_country", "report_queue_assignee")

OUT = sys.stdout


def say(text: str = "") -> None:
    print(text, file=OUT, flush=True)


# --------------------------------------------------------------------------------------------
# Set-up: a database of our own, then Django


def fresh_database(base: str) -> str:
    import psycopg

    name = "bench_console_" + secrets.token_hex(4)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(base)._replace(path="/" + name))


def django_setup(database_url: str | None) -> Path:
    data_dir = Path(tempfile.mkdtemp(prefix="tipline-bench-console-"))
    os.environ["TIPLINE_DATA_DIR"] = str(data_dir)
    os.environ["TIPLINE_INSECURE_COOKIES"] = "1"
    os.environ["TIPLINE_ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tipline.settings"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    from tipline.crypto.keyfiles import init_keys

    init_keys(data_dir / "keys", stored_data=None)  # before the settings, which read the secret
    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    return data_dir


# --------------------------------------------------------------------------------------------
# Bulk rows


CATEGORY_WEIGHTS = {
    "cyberstalking": 30,
    "other": 18,
    "ncii": 15,
    "csam": 14,
    "sextortion": 12,
    "luring": 8,
    "child_in_danger": 3,
}
STATE_WEIGHTS = {
    "new": 30,
    "in_review": 22,
    "awaiting_second_review": 3,
    "actioned": 10,
    "closed": 35,
}
# ~30 countries with a long tail; a quarter of reporters do not say.
COUNTRIES = tuple(
    [
        "US",
        "GB",
        "FR",
        "DE",
        "IN",
        "CA",
        "AU",
        "ES",
        "IT",
        "NL",
        "BR",
        "MX",
        "PL",
        "SE",
        "BE",
        "IE",
        "PT",
        "CH",
        "AT",
        "NO",
        "DK",
        "FI",
        "NZ",
        "ZA",
        "NG",
        "KE",
        "PH",
        "JP",
        "KR",
        "AR",
    ]
)
ANALYSTS = ("bench", "ana", "bo", "chen", "dara")


class _Entry:
    """Just the attributes ``chain._content`` reads, without a model instance per row."""

    __slots__ = ("action", "actor", "created_at", "details", "seq", "target_id", "target_type")

    def __init__(self, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self, name, value)


def audit_rows(n: int, start: datetime) -> Iterator[tuple[Any, ...]]:
    from tipline.audit.chain import GENESIS, _content, _mac
    from tipline.crypto.box import audit_key

    key = audit_key()
    rng = random.Random(3)
    prev = GENESIS
    step = timedelta(seconds=90 * 86400 / max(n, 1))
    for seq in range(1, n + 1):
        action = rng.choice(("report.view", "report.decrypt", "report.claim", "staff.sign_in"))
        details: dict[str, Any] = (
            {"fields": ["what_happened", "urls"], "messages": rng.randrange(4), "erased": False}
            if action == "report.decrypt"
            else {}
        )
        entry = _Entry(
            seq=seq,
            created_at=start + step * seq,
            actor=rng.choice(ANALYSTS),
            action=action,
            target_type="report",
            target_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            details=details,
        )
        entry_hash = _mac(key, prev, _content(entry))  # type: ignore[arg-type]
        yield (
            entry.seq,
            entry.created_at,
            entry.actor,
            entry.action,
            entry.target_type,
            entry.target_id,
            json.dumps(details),
            prev,
            entry_hash,
        )
        prev = entry_hash


AUDIT_COLUMNS = (
    "seq",
    "created_at",
    "actor",
    "action",
    "target_type",
    "target_id",
    "details",
    "prev_hash",
    "entry_hash",
)


def report_rows(n: int, now: datetime, staff_ids: list[int]) -> Iterator[dict[str, Any]]:
    from tipline.cases import categories

    rng = random.Random(7)
    cats = list(CATEGORY_WEIGHTS)
    cat_w = list(CATEGORY_WEIGHTS.values())
    states = list(STATE_WEIGHTS)
    state_w = list(STATE_WEIGHTS.values())
    country_w = [1 / (rank + 1) for rank in range(len(COUNTRIES))]
    blobs = [os.urandom(48) for _ in range(64)]
    for _ in range(n):
        cat = categories.get(rng.choices(cats, cat_w)[0])
        priority = cat.default_priority
        if rng.random() < 0.2:
            priority = max(0, min(100, priority + rng.randint(-10, 10)))
        state = rng.choices(states, state_w)[0]
        created = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
        assigned = None
        if state in ("in_review", "awaiting_second_review") or (
            state in ("actioned", "closed") and rng.random() < 0.7
        ):
            assigned = rng.choice(staff_ids)
        done = state in ("actioned", "closed")
        yield {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "receipt_digest": f"{rng.getrandbits(256):064x}",
            "category": cat.code,
            "channel": "web" if rng.random() < 0.8 else "api",
            "language": "en",
            "state": state,
            "tier": cat.default_tier.value,
            "priority": priority,
            "created_at": created,
            "updated_at": created,
            "payload": blobs[rng.randrange(64)],
            "contact": blobs[rng.randrange(64)] if rng.random() < 0.3 else None,
            "assigned_to_id": assigned,
            "outcome": ("not_actionable" if state == "closed" else "referred") if done else "",
            "closed_at": created + timedelta(days=rng.uniform(0, 5)) if done else None,
            "country": rng.choices(COUNTRIES, country_w)[0] if rng.random() < 0.75 else "",
            "legal_hold": False,
            "contact_erased_at": None,
            "content_erased_at": None,
        }


def bulk_load(table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> int:
    """COPY on PostgreSQL; executemany in batches on SQLite (the --quick smoke run only)."""
    from django.db import connection, transaction

    count = 0
    cols = ", ".join(f'"{c}"' for c in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        marks = ", ".join(["%s"] * len(columns))
        # Table and column names come from our own models, never from input.
        insert = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(tuple(_sqlite_value(v) for v in row))
            if len(batch) == 5000:
                cursor.executemany(insert, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(insert, batch)
            count += len(batch)
    return count


def _sqlite_value(value: Any) -> Any:
    from django.db import connection

    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    return value


def seed_reports(n: int, staff_ids: list[int]) -> float:
    from tipline.cases.models import Report

    fields = Report._meta.concrete_fields
    columns = tuple(f.column for f in fields)
    # Columns added to Report after this generator was written take their model default.
    defaults = {f.column: f.get_default() for f in fields}
    started = time.perf_counter()
    rows = (
        tuple(row[c] if c in row else defaults[c] for c in columns)
        for row in report_rows(n, datetime.now(UTC), staff_ids)
    )
    bulk_load(Report._meta.db_table, columns, rows)
    return time.perf_counter() - started


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE cases_report")
            cursor.execute("VACUUM ANALYZE audit_auditentry")
        else:
            cursor.execute("ANALYZE")


# --------------------------------------------------------------------------------------------
# Timing


@dataclass
class Timing:
    name: str
    p50_ms: float
    p95_ms: float
    n: int
    target_ms: float | None = None
    raw_p50_ms: float | None = None
    # Deep pages only: the same page with the single-query keyset predicate used before
    # issue 3 (an OR of four conditions), raw SQL, a few runs: the "before" figure.
    old_keyset_raw_ms: float | None = None
    rows: int | None = None
    plan: str = ""

    @property
    def ok(self) -> bool | None:
        return None if self.target_ms is None else self.p50_ms < self.target_ms


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed(fn: Callable[[], Any], n: int, warm: int = 2) -> list[float]:
    for _ in range(warm):
        fn()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def queue_filters(me: Any) -> list[tuple[str, dict[str, str]]]:
    today = datetime.now(UTC).date()
    week_ago = (today - timedelta(days=7)).isoformat()
    month_ago = (today - timedelta(days=30)).isoformat()
    # No state filter means the working queue (open reports); "any" lifts that.
    cases: list[tuple[str, dict[str, str]]] = [
        ("no filter (open reports)", {}),
        ("state=any", {"state": "any"}),
        ("category=other+any state", {"category": "other", "state": "any"}),
    ]
    cases += [(f"category={c}", {"category": c}) for c in CATEGORY_WEIGHTS]
    cases += [(f"state={s}", {"state": s}) for s in STATE_WEIGHTS]
    cases += [
        ("assignee=me", {"assignee": "me"}),
        ("assignee=unassigned", {"assignee": "unassigned"}),
        ("country=US (common)", {"country": "US"}),
        ("country=AR (rare)", {"country": "AR"}),
        ("country=not said", {"country": "none"}),
        ("country=ZW (none)", {"country": "ZW"}),
        ("received last 7 days", {"created_from": week_ago}),
        ("received 30-7 days ago", {"created_from": month_ago, "created_to": week_ago}),
        ("luring+new+US", {"category": "luring", "state": "new", "country": "US"}),
        (
            "child_in_danger+in_review+FR",
            {"category": "child_in_danger", "state": "in_review", "country": "FR"},
        ),
        ("csam+new+unassigned", {"category": "csam", "state": "new", "assignee": "unassigned"}),
        ("me+in_review+7 days", {"assignee": "me", "state": "in_review", "created_from": week_ago}),
        (
            "cyberstalking+AR+30 days",
            {"category": "cyberstalking", "country": "AR", "created_from": month_ago},
        ),
    ]
    return cases


def _plan_summary(queryset: Any) -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        return queryset.explain()
    plan = queryset.explain()
    keep = [
        line.strip().lstrip("-> ").split("  (")[0]
        for line in plan.splitlines()
        if any(word in line for word in ("Scan", "Sort", "Bitmap", "Limit"))
        and "Index Cond" not in line
    ]
    return " | ".join(keep)


def _old_after(c: Any) -> Any:
    from django.db.models import Q

    return (
        Q(tier__gt=c.tier)
        | Q(tier=c.tier, priority__lt=c.priority)
        | Q(tier=c.tier, priority=c.priority, created_at__gt=c.created_at)
        | Q(tier=c.tier, priority=c.priority, created_at=c.created_at, id__gt=c.id)
    )


def _read_query(queryset: Any) -> Any:
    """The SELECT ``tipline.cases.queue._read`` sends, as a queryset."""
    from tipline.cases import queue

    return (
        queryset.order_by("tier", "-priority", "created_at", "id")
        .select_related("assigned_to")
        .only(
            "id",
            "category",
            "tier",
            "priority",
            "state",
            "country",
            "created_at",
            "assigned_to__username",
        )[: queue.PAGE_SIZE + 1]
    )


def _run(sql: str, params: Any) -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(sql, params)
        c.fetchall()


def bench_queue(client: Any, me: Any, n: int, explain: bool) -> list[Timing]:

    from tipline.cases import queue
    from tipline.console.forms import QueueFilterForm

    results: list[Timing] = []
    for name, params in queue_filters(me):
        form = QueueFilterForm(params)
        assert form.is_valid(), (name, form.errors)
        filters = form.filters()
        base = queue._filtered(me, filters)
        ordered = base.order_by("tier", "-priority", "created_at", "id")
        matching = base.count()
        middle = ordered.values_list("tier", "priority", "created_at", "id")[
            matching // 2 : matching // 2 + 1
        ]
        pages: list[tuple[str, dict[str, str], Any]] = [("first", params, None)]
        if middle:
            cursor = queue.Cursor(*middle[0])
            pages.append(("deep", {**params, "after": cursor.encode()}, cursor))
        for label, query, cursor in pages:
            url = "/console/queue/?" + urlencode(query)

            def view(url: str = url) -> None:
                response = client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {response.status_code}")

            samples = timed(view, n)
            # The baseline: the first (usually the only) SELECT the view sends, run raw.
            band = base if cursor is None else base.filter(queue._bands_after(cursor)[0])
            qs = _read_query(band)
            sql, sql_params = qs.query.sql_with_params()

            def raw(sql: str = sql, sql_params: Any = sql_params) -> None:
                _run(sql, sql_params)

            raw_samples = timed(raw, n)
            old_ms = None
            if cursor is not None:
                old_qs = _read_query(base.filter(_old_after(cursor)))
                old_sql, old_params = old_qs.query.sql_with_params()
                old_ms = percentiles(
                    timed(lambda: _run(old_sql, old_params), 3, warm=1)  # noqa: B023 - run now
                )[0]
            p50, p95 = percentiles(samples)
            raw_p50, _ = percentiles(raw_samples)
            results.append(
                Timing(
                    name=f"queue {label:5} {name}",
                    p50_ms=p50,
                    p95_ms=p95,
                    n=n,
                    target_ms=QUEUE_TARGET_MS,
                    raw_p50_ms=raw_p50,
                    old_keyset_raw_ms=old_ms,
                    rows=matching,
                    plan=_plan_summary(qs) if explain else "",
                )
            )
            row = results[-1]
            say(
                f"  {row.name:48} p50 {row.p50_ms:7.1f} ms  p95 {row.p95_ms:7.1f} ms  "
                f"raw {row.raw_p50_ms:6.2f} ms  ({matching:,} match)"
                + (f"  old keyset raw {old_ms:.1f} ms" if old_ms is not None else "")
            )
            if explain:
                say(f"      plan: {row.plan}")
    return results


def bench_case_view(client: Any, report_ids: list[uuid.UUID], n: int) -> Timing:
    samples: list[float] = []
    rounds = max(1, n // len(report_ids))
    for report_id in report_ids:
        url = f"/console/reports/{report_id}/"

        def view(url: str = url) -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")

        samples += timed(view, rounds, warm=1)
    p50, p95 = percentiles(samples)
    return Timing("case view (real reports)", p50, p95, len(samples), CASE_TARGET_MS)


# --------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    from django.db import connection

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "database": connection.vendor,
    }
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        info["memory_gb"] = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("SHOW server_version")
            info["postgresql"] = c.fetchone()[0]
            c.execute("SHOW shared_buffers")
            info["shared_buffers"] = c.fetchone()[0]
    return info


def main() -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=None, help="bulk reports (1,000,000)")
    parser.add_argument("--audit", type=int, default=None, help="audit entries (1,000,000)")
    parser.add_argument("--requests", type=int, default=None, help="requests per figure (30)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20,000 of each")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, tables on stderr")
    parser.add_argument("--explain", action="store_true", help="print each query's plan")
    parser.add_argument(
        "--drop-new-indexes",
        action="store_true",
        help="drop the indexes of migration 0004 first (the 'before' figures)",
    )
    args = parser.parse_args()
    if args.json:
        OUT = sys.stderr
    n_reports = args.reports if args.reports is not None else (20_000 if args.quick else 1_000_000)
    n_audit = args.audit if args.audit is not None else (20_000 if args.quick else 1_000_000)
    n_requests = args.requests or (5 if args.quick else 30)

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        if not args.quick:
            sys.exit(
                "The console figures are PostgreSQL figures. Run it as\n"
                "  scripts/with-postgres -- .venv/bin/python benchmarks/console.py\n"
                "(or add --quick for a smoke run on SQLite)."
            )
        base_url = ""
    database_url = fresh_database(base_url) if base_url else None
    started = time.perf_counter()
    django_setup(database_url)

    from django.db import connection
    from tests.console.helpers import signed_in
    from tests.factories import report as file_report
    from tests.factories import staff

    from tipline.audit import chain
    from tipline.audit.models import AuditEntry
    from tipline.cases.models import Report

    info = machine()
    say(f"Console benchmark, {info['date']}: {n_reports:,} reports, {n_audit:,} audit entries")
    say("  " + ", ".join(f"{k} {v}" for k, v in info.items() if k != "date"))

    if args.drop_new_indexes:
        with connection.cursor() as c:
            for name in NEW_INDEXES:
                c.execute(f'DROP INDEX "{name}"')
        say(f"  dropped {', '.join(NEW_INDEXES)} (the 'before' figures)")

    t = time.perf_counter()
    bulk_load(
        AuditEntry._meta.db_table,
        AUDIT_COLUMNS,
        audit_rows(n_audit, datetime.now(UTC) - timedelta(days=91)),
    )
    audit_seed_s = time.perf_counter() - t
    say(f"  seeded {n_audit:,} audit entries in {audit_seed_s:.1f} s (COPY, chain computed)")

    client, me = signed_in(ANALYSTS[0])
    staff_ids = [me.pk] + [staff(name).user.pk for name in ANALYSTS[1:]]
    report_seed_s = seed_reports(n_reports, staff_ids)
    say(f"  seeded {n_reports:,} reports in {report_seed_s:.1f} s (COPY)")

    real: list[uuid.UUID] = []
    for n in range(REAL_REPORTS):
        created = file_report(
            ("cyberstalking", "luring", "sextortion", "other")[n % 4],
            text=f"Messages every night since March, report {n}. " * 8,
            contact={"contact_email": f"reporter{n}@example.org"},
        )
        Report.objects.filter(pk=created.report.pk).update(country=COUNTRIES[n % 10])
        real.append(created.report.pk)
    t = time.perf_counter()
    analyze()
    say(
        f"  VACUUM ANALYZE in {time.perf_counter() - t:.1f} s; set-up total "
        f"{time.perf_counter() - started:.0f} s"
    )

    say("\nQueue page through django.test.Client (server time, in-process)")
    results = bench_queue(client, me, n_requests, args.explain)
    say("\nCase view")
    results.append(bench_case_view(client, real, max(n_requests, REAL_REPORTS * 2)))
    case = results[-1]
    say(f"  {case.name:48} p50 {case.p50_ms:7.1f} ms  p95 {case.p95_ms:7.1f} ms")

    say("\nAudit verify")
    t = time.perf_counter()
    verified = chain.verify()
    verify_s = time.perf_counter() - t
    say(f"  chain.verify(): {verified.entries:,} entries in {verify_s:.1f} s")

    queue_rows = [r for r in results if r.name.startswith("queue")]
    worst = max(queue_rows, key=lambda r: r.p50_ms)
    ratios = [r.p50_ms / r.raw_p50_ms for r in queue_rows if r.raw_p50_ms]
    summary = {
        "queue_worst_p50_ms": round(worst.p50_ms, 1),
        "queue_worst": worst.name,
        "queue_median_view_over_raw": round(statistics.median(ratios), 1) if ratios else None,
        "queue_ok": all(r.ok for r in queue_rows),
        "case_view_p50_ms": round(case.p50_ms, 1),
        "case_view_ok": bool(case.ok),
        "audit_verify_s": round(verify_s, 1),
        "audit_entries": verified.entries,
        "audit_ok": verify_s < VERIFY_TARGET_S,
    }

    say("\nSummary")
    say(f"  {'figure':52} {'p50':>9} {'p95':>9} {'raw p50':>8} {'ratio':>6}  target")
    for r in results:
        raw = f"{r.raw_p50_ms:8.2f}" if r.raw_p50_ms else " " * 8
        ratio = f"{r.p50_ms / r.raw_p50_ms:6.1f}" if r.raw_p50_ms else " " * 6
        verdict = "ok" if r.ok else "MISSED"
        say(
            f"  {r.name:52} {r.p50_ms:9.1f} {r.p95_ms:9.1f} {raw} {ratio}  "
            f"< {r.target_ms:.0f} ms {verdict}"
        )
    say(
        f"  {'audit verify (' + format(verified.entries, ',') + ' entries)':52} "
        f"{verify_s:8.1f}s {'':>9} {'':>8} {'':>6}  < {VERIFY_TARGET_S:.0f} s "
        f"{'ok' if summary['audit_ok'] else 'MISSED'}"
    )
    say(
        f"\n  worst queue p50: {worst.p50_ms:.1f} ms ({worst.name.strip()}); "
        f"median view/raw-SQL ratio {summary['queue_median_view_over_raw']}x"
    )
    if args.json:
        payload = {
            "machine": info,
            "reports": n_reports,
            "audit": n_audit,
            "requests_per_figure": n_requests,
            "seed_seconds": {"audit": round(audit_seed_s, 1), "reports": round(report_seed_s, 1)},
            "summary": summary,
            "results": [asdict(r) for r in results],
        }
        print(json.dumps(payload, indent=2, default=str))
    return 0 if summary["queue_ok"] and summary["case_view_ok"] and summary["audit_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
