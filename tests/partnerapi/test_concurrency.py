"""Races, on real connections (run under scripts/with-postgres for PostgreSQL).

Two requests carrying the same references at once must file each reference once, and a change
being written must never become visible after a later one (a cursor would skip it).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from tests.partnerapi.conftest import bearer, make_token
from tipline.cases.models import Report
from tipline.matching import banks
from tipline.partnerapi.models import PartnerReport
from tipline.partners.models import Scope

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(target: Callable[[], Any], results: list[Any]) -> threading.Thread:
    def run() -> None:
        try:
            results.append(target())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_concurrent_batches_with_the_same_references_file_each_once() -> None:
    token = make_token("Racing platform", Scope.REPORTS)
    refs = [f"race-{i:02d}" for i in range(20)]
    bodies = [
        [
            {"reference": r, "category": "other", "what_happened": "Harassing messages."}
            for r in order
        ]
        for order in (refs, list(reversed(refs)))
    ]
    start = threading.Barrier(2)
    results: list[Any] = []

    def send(body: list[dict[str, str]]) -> Callable[[], Any]:
        def call() -> Any:
            start.wait()
            response = Client().post(
                "/api/v1/partner/reports",
                json.dumps({"reports": body}),
                content_type="application/json",
                headers=bearer(token),
            )
            return response.status_code, response.json()

        return call

    threads = [_in_thread(send(b), results) for b in bodies]
    for thread in threads:
        thread.join(timeout=120)
    assert [status for status, _ in results] == [200, 200]
    answers = [{r["reference"]: r["id"] for r in body["results"]} for _s, body in results]
    assert answers[0] == answers[1]
    assert Report.objects.count() == PartnerReport.objects.count() == 20
    statuses = sorted(r["status"] for _s, body in results for r in body["results"])
    assert statuses.count("created") == 20
    assert statuses.count("existing") == 20


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the lock under test is PostgreSQL's")
def test_a_change_in_flight_holds_back_later_ones_so_no_cursor_skips_it() -> None:
    bank = banks.bank_create(actor="tester", name="shared", default_classification="baseline")
    record = banks.make_record
    first_written = threading.Event()
    release_first = threading.Event()
    done: list[Any] = []

    def slow_writer() -> None:
        with transaction.atomic():
            banks.entries_add(
                actor="tester", bank=bank, records=[record(position=0, kind="md5", value="1" * 32)]
            )
            first_written.set()
            release_first.wait(timeout=30)

    def fast_writer() -> None:
        first_written.wait(timeout=30)
        banks.entries_add(
            actor="tester", bank=bank, records=[record(position=0, kind="md5", value="2" * 32)]
        )

    slow = _in_thread(slow_writer, done)
    fast = _in_thread(fast_writer, done)
    first_written.wait(timeout=30)
    time.sleep(0.5)  # the fast writer is now waiting for the lock, not committed
    assert banks.changes_since(bank=bank, cursor=0, limit=10) == []
    release_first.set()
    slow.join(timeout=30)
    fast.join(timeout=30)
    seen = banks.changes_since(bank=bank, cursor=0, limit=10)
    assert [c.value for c in seen] == ["1" * 32, "2" * 32]
    assert seen[0].seq < seen[1].seq
