"""Guessing limits that an attacker cannot turn against reporters (issue 14, item 7).

The probe's attack: sixty wrong receipts in two seconds locked every reporter out of follow-up
for a minute (and every victim out of the evidence locker the same way), and concurrent guesses
overshot the limit. Each test below reproduces one part of it against the real database (SQLite,
or PostgreSQL under scripts/with-postgres), with real threads and, for the Argon2 slots, a real
second process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.db import connection
from django.test import Client

import tipline.settings as production
from tests import factories
from tests.locker.locker_client import create
from tipline import crypto, throttle
from tipline.cases import receipts
from tipline.cases.access import ReportNotFound, TooManyAttempts, report_by_receipt
from tipline.cases.models import ReceiptThrottle
from tipline.crypto import passphrase as pp
from tipline.locker import actions, sessions
from tipline.locker.models import OpenThrottle

pytestmark = pytest.mark.usefixtures("one_minute")


@pytest.fixture(autouse=True)
def _fast_argon2(settings: LazySettings) -> None:
    settings.TIPLINE_LOCKER_ARGON2 = {"time_cost": 1, "memory_kib": 8, "parallelism": 1}


@pytest.fixture
def shipped_limits(settings: LazySettings) -> None:
    """The limits a deployment gets by default (tests/settings.py raises them for other tests)."""
    for name in (
        "TIPLINE_RECEIPT_FAILURES_PER_MINUTE",
        "TIPLINE_RECEIPT_BUCKETS",
        "TIPLINE_LOCKER_OPEN_FAILURES_PER_MINUTE",
        "TIPLINE_LOCKER_OPEN_BUCKETS",
        "TIPLINE_LOCKER_ARGON2_SLOTS",
    ):
        setattr(settings, name, getattr(production, name))


# Where a locker open leads (lockers answer every passphrase POST with a redirect).
OPENED = "/en/locker/continue/?t="
BUSY = "/en/locker/open/?problem=busy"


def wrong_receipt() -> str:
    return receipts.generate()  # well formed, 80 random bits: matches no report


def outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except ReportNotFound:
        return "not found"
    except (TooManyAttempts, sessions.TooManyAttempts):
        return "throttled"
    except sessions.LockerNotFound:
        return "not found"
    return "found"


def followup(client: Client, receipt: str) -> int:
    return client.post("/en/follow-up/", {"receipt": receipt}).status_code


def api_status(client: Client, receipt: str) -> int:
    return client.post(
        "/api/v1/followup/status", json.dumps({"receipt": receipt}), "application/json"
    ).status_code


# --- receipts -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("shipped_limits")
def test_a_reporter_gets_through_while_an_attacker_guesses(client: Client) -> None:
    reporter = factories.report()
    # The probe's attack was 60 wrong receipts; send fifty times that, over the web and the API.
    for round_ in range(30):
        for _ in range(50):
            assert outcome(lambda: report_by_receipt(wrong_receipt())) == "not found"
        assert followup(client, wrong_receipt()) == 404
        assert api_status(client, wrong_receipt()) == 404
        # The reporter, in the middle of the attack, on both paths.
        assert followup(client, reporter.receipt) == 200, f"locked out after round {round_}"
        assert api_status(client, reporter.receipt) == 200
    # Junk does not even touch the reporters' buckets: it has a bucket of its own.
    for _ in range(200):
        outcome(lambda: report_by_receipt("not a receipt"))
    assert followup(client, reporter.receipt) == 200


@pytest.mark.django_db
def test_capacity_limit_holds_and_a_full_bucket_refuses_the_right_receipt_too(
    settings: LazySettings,
) -> None:
    settings.TIPLINE_RECEIPT_FAILURES_PER_MINUTE = 3
    settings.TIPLINE_RECEIPT_BUCKETS = 4
    reporter = factories.report()
    seen = Counter(outcome(lambda: report_by_receipt(wrong_receipt())) for _ in range(300))
    # Four buckets of three: exactly twelve guesses were checked this minute, however many came.
    assert seen == Counter({"not found": 12, "throttled": 288})
    # Every bucket is full now, the reporter's too: refused like everyone, so no oracle.
    assert outcome(lambda: report_by_receipt(reporter.receipt)) == "throttled"
    junk = Counter(outcome(lambda: report_by_receipt("junk")) for _ in range(10))
    assert junk == Counter({"not found": 3, "throttled": 7})
    rows = {row.bucket: row.failures for row in ReceiptThrottle.objects.all()}
    assert set(rows) == {0, 1, 2, 3, 4}  # four receipt buckets and the malformed one
    assert {f.name for f in ReceiptThrottle._meta.fields} == {
        "id",
        "window_start",
        "bucket",
        "failures",
    }  # nothing about who asked


@pytest.mark.django_db
def test_right_answers_leave_no_trace_and_old_minutes_are_dropped(settings: LazySettings) -> None:
    settings.TIPLINE_RECEIPT_FAILURES_PER_MINUTE = 5
    reporter = factories.report()
    for _ in range(20):
        report_by_receipt(reporter.receipt)  # reserved and given back, row deleted
    assert not ReceiptThrottle.objects.exists()
    outcome(lambda: report_by_receipt(wrong_receipt()))
    stale = ReceiptThrottle.objects.get()
    ReceiptThrottle.objects.filter(pk=stale.pk).update(
        window_start=stale.window_start.replace(year=2020)
    )
    outcome(lambda: report_by_receipt(wrong_receipt()))
    assert ReceiptThrottle.objects.filter(window_start__year=2020).count() == 0


def _race(workers: int, call: Callable[[], str]) -> Counter[str]:
    """Run ``call`` in ``workers`` threads released together; each has its own connection."""
    start = threading.Barrier(workers)
    results: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            start.wait()
            result = call()
            with lock:
                results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(results)


@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_never_overshoot_the_budget(settings: LazySettings) -> None:
    settings.TIPLINE_RECEIPT_FAILURES_PER_MINUTE = 5
    settings.TIPLINE_RECEIPT_BUCKETS = 1
    reporter = factories.report()
    seen = _race(24, lambda: outcome(lambda: report_by_receipt(wrong_receipt())))
    assert seen == Counter({"not found": 5, "throttled": 19})
    # Every attempt was counted: no update was lost between connections.
    assert ReceiptThrottle.objects.get().failures == 24
    assert outcome(lambda: report_by_receipt(reporter.receipt)) == "throttled"


@pytest.mark.django_db(transaction=True)
def test_concurrent_right_answers_give_their_reservations_back(settings: LazySettings) -> None:
    settings.TIPLINE_RECEIPT_FAILURES_PER_MINUTE = 3
    settings.TIPLINE_RECEIPT_BUCKETS = 1
    reporter = factories.report()
    seen = _race(12, lambda: outcome(lambda: report_by_receipt(reporter.receipt)))
    # More than three in flight at once in one bucket may be told to wait (with 4096 buckets
    # that takes a burst on one receipt); every one that got through gave its reservation back.
    assert seen["found"] >= 3
    assert set(seen) <= {"found", "throttled"}
    left = sum(row.failures for row in ReceiptThrottle.objects.all())
    assert left == seen["throttled"]


# --- the evidence locker -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("shipped_limits")
def test_a_victim_opens_their_locker_while_an_attacker_guesses(client: Client) -> None:
    phrase, _token = create(client)
    for round_ in range(5):
        for _ in range(40):  # 200 wrong passphrases: the old site-wide limit was 60
            assert outcome(lambda: sessions.open_with_passphrase(pp.generate())) == "not found"
        answer = client.post("/en/locker/open/", {"passphrase": phrase})
        assert answer["Location"].startswith(OPENED), f"locked out after round {round_}"
    # Spread thin: no bucket came near its budget of ten.
    assert max(row.failures for row in OpenThrottle.objects.all()) < 6


@pytest.mark.django_db
def test_a_full_locker_bucket_refuses_before_argon2(settings: LazySettings) -> None:
    phrase = pp.generate()
    actions.locker_create(passphrase=phrase)
    # Argon2 at 256 MiB takes a second or more; a refused attempt must not run it at all.
    settings.TIPLINE_LOCKER_ARGON2 = {"time_cost": 3, "memory_kib": 256 * 1024, "parallelism": 1}
    settings.TIPLINE_LOCKER_OPEN_FAILURES_PER_MINUTE = 0
    began = time.monotonic()
    assert outcome(lambda: sessions.open_with_passphrase(phrase)) == "throttled"
    assert time.monotonic() - began < 0.5


@pytest.fixture
def held_slots(settings: LazySettings, tmp_path: Path) -> Iterator[Callable[[int], None]]:
    """Hold Argon2 slots from another process, as a second gunicorn worker would."""
    settings.DATA_DIR = tmp_path
    holders: list[subprocess.Popen[bytes]] = []

    def hold(count: int) -> None:
        script = (
            "import fcntl, os, sys, time\n"
            f"for i in range({count}):\n"
            f"    fd = os.open({str(tmp_path)!r} + f'/locker-argon2-slot-{{i}}.lock',"
            " os.O_RDWR | os.O_CREAT, 0o600)\n"
            "    fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n"
        )
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        holders.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"held"

    yield hold
    for proc in holders:
        proc.kill()
        proc.wait()


@pytest.mark.django_db
def test_argon2_runs_are_bounded_machine_wide(
    client: Client, settings: LazySettings, held_slots: Callable[[int], None]
) -> None:
    settings.TIPLINE_LOCKER_ARGON2_SLOTS = 2
    phrase, _token = create(client)
    held_slots(2)  # another worker is running two Argon2 derivations
    began = time.monotonic()
    busy = client.post("/en/locker/open/", {"passphrase": phrase})
    assert busy["Location"] == BUSY
    assert time.monotonic() - began < 1  # answered at once, not queued on a thread
    assert client.get(BUSY).status_code == 429
    made = client.post(
        "/en/locker/create/",
        {"generated": pp.generate(), "choice": "generated", "written_down": "on"},
    )
    assert made["Location"] == BUSY
    # The create form's error page checks its phrase with Argon2 too: with no slot free it shows
    # a new phrase (the safe answer) instead of waiting.
    posted = pp.generate()
    again = client.post("/en/locker/create/", {"generated": posted, "choice": "generated"})
    assert again.status_code == 400
    assert posted not in again.content.decode()
    # Nothing was counted against the passphrase's bucket: it was never tried.
    assert not OpenThrottle.objects.exists()


@pytest.mark.django_db
def test_with_slots_free_the_same_open_works(
    client: Client, settings: LazySettings, held_slots: Callable[[int], None]
) -> None:
    settings.TIPLINE_LOCKER_ARGON2_SLOTS = 2
    phrase, _token = create(client)
    held_slots(1)
    assert client.post("/en/locker/open/", {"passphrase": phrase})["Location"].startswith(OPENED)


def test_slots_admit_at_most_their_number_at_once(settings: LazySettings, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    inside = 0
    peak = 0
    lock = threading.Lock()
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def worker() -> None:
        nonlocal inside, peak
        start.wait()
        try:
            with throttle.slot("test", 3):
                with lock:
                    inside += 1
                    peak = max(peak, inside)
                time.sleep(0.3)
                with lock:
                    inside -= 1
            outcomes.append("ran")
        except throttle.Busy:
            outcomes.append("busy")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 3
    assert Counter(outcomes) == Counter({"ran": 3, "busy": 5})
    with throttle.slot("test", 3):  # all given back
        pass


def test_receipt_buckets_spread_evenly() -> None:
    """Random receipts fill the buckets evenly, so no bucket is an easier target."""
    counts = Counter(
        int(crypto.receipt_digest(receipts.normalise(receipts.generate()) or "")[:16], 16) % 16
        for _ in range(4800)
    )
    assert len(counts) == 16
    assert max(counts.values()) < 400  # mean 300
