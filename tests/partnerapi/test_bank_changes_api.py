"""`/api/v1/banks/<name>/changes` and `/vics`: what a partner with scope "hashes" may pull."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.test import Client

from tests.partnerapi.conftest import bearer, make_token
from tipline.audit.models import AuditEntry
from tipline.matching import banks
from tipline.matching.importers import vics
from tipline.matching.models import HashBank
from tipline.partners.models import Scope

pytestmark = pytest.mark.django_db


def md5(n: int) -> str:
    return f"{n:032x}"


@pytest.fixture
def shared() -> HashBank:
    bank = banks.bank_create(actor="tester", name="shared", default_classification="baseline")
    records = [banks.make_record(position=i, kind="md5", value=md5(i)) for i in range(1, 6)]
    banks.entries_add(actor="tester", bank=bank, records=records)
    return bank


@pytest.fixture
def token(db: None) -> str:
    return make_token("Partner hotline", Scope.HASHES)


def changes(client: Client, token: str, query: str = "", name: str = "shared") -> Any:
    return client.get(f"/api/v1/banks/{name}/changes{query}", headers=bearer(token))


def test_changes_page_by_page_then_removals_after_the_cursor(
    client: Client, token: str, shared: HashBank
) -> None:
    first = changes(client, token, "?limit=3").json()
    assert [c["value"] for c in first["changes"]] == [md5(1), md5(2), md5(3)]
    assert first["more"] is True
    assert {c["op"] for c in first["changes"]} == {"add"}
    assert first["changes"][0]["classification"] == "baseline"
    second = changes(client, token, f"?limit=3&cursor={first['next_cursor']}").json()
    assert [c["value"] for c in second["changes"]] == [md5(4), md5(5)]
    assert second["more"] is False
    cursor = second["next_cursor"]
    assert changes(client, token, f"?cursor={cursor}").json()["changes"] == []
    banks.entry_remove(actor="tester", bank_name="shared", value=md5(2), kind="md5")
    banks.entries_add(
        actor="tester",
        bank=shared,
        records=[banks.make_record(position=0, kind="md5", value=md5(9))],
    )
    later = changes(client, token, f"?cursor={cursor}").json()["changes"]
    assert [(c["op"], c["value"]) for c in later] == [("remove", md5(2)), ("add", md5(9))]
    assert later[0]["seq"] < later[1]["seq"]
    assert AuditEntry.objects.filter(action="hashes.served").count() == 3


def test_an_entry_changed_twice_appears_once_in_its_latest_state(
    client: Client, token: str, shared: HashBank
) -> None:
    cursor = changes(client, token).json()["next_cursor"]
    banks.entry_remove(actor="tester", bank_name="shared", value=md5(3), kind="md5")
    again = [banks.make_record(position=0, kind="md5", value=md5(3), classification="national")]
    banks.entries_add(actor="tester", bank=shared, records=again)
    later = changes(client, token, f"?cursor={cursor}").json()["changes"]
    assert [(c["op"], c["value"], c["classification"]) for c in later] == [
        ("add", md5(3), "national")
    ]


@pytest.mark.parametrize(
    "query",
    [
        "?cursor=-1",
        "?cursor=abc",
        "?cursor=1e3",
        "?cursor=99999999999999999999",
        "?cursor=1&cursor=2",
        "?cursor=%00",
        "?cursor=%EF%BC%91",
        "?limit=0x10",
        "?limit=50001",
        "?cursor=%ED%A0%80",
    ],
)
def test_bad_cursors_and_limits_are_400(
    client: Client, token: str, shared: HashBank, query: str
) -> None:
    response = changes(client, token, query)
    assert response.status_code == 400
    assert set(response.json()["errors"]) <= {"cursor", "limit"}


def test_unshared_and_missing_banks_are_the_same_404(client: Client, token: str) -> None:
    banks.bank_create(actor="tester", name="licensed", default_classification="baseline")
    unshared = changes(client, token, name="licensed")
    missing = changes(client, token, name="nothing")
    assert unshared.status_code == missing.status_code == 404
    assert unshared.content == missing.content
    assert (
        client.get("/api/v1/banks/licensed/vics", headers=bearer(token)).content == missing.content
    )


def test_scope_and_token_are_required(client: Client, shared: HashBank) -> None:
    assert client.get("/api/v1/banks/shared/changes").status_code == 401
    assert changes(client, make_token("Reports only", Scope.REPORTS)).status_code == 403
    assert client.get("/api/v1/banks/shared/vics").status_code == 401


def test_the_whole_bank_downloads_as_vics_the_importer_reads(
    client: Client, token: str, shared: HashBank
) -> None:
    banks.entry_remove(actor="tester", bank_name="shared", value=md5(5), kind="md5")
    response = client.get("/api/v1/banks/shared/vics", headers=bearer(token))
    assert response.status_code == 200
    raw = response.content
    json.loads(raw)
    items = list(vics.parse_vics(io.BytesIO(raw), len(raw)))
    values = sorted(i.value for i in items if isinstance(i, banks.EntryRecord))
    assert values == [md5(n) for n in range(1, 5)]
    assert AuditEntry.objects.filter(action="hashes.export").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/banks/%ED%A0%80/changes",
        "/api/v1/banks/%00/changes",
        "/api/v1/banks/" + "a" * 5000 + "/changes",
        "/api/v1/banks/shared%2F..%2F/vics",
        "/api/v1/partner/reports/%ED%A0%80",
        "/api/v1/partner/reports/' OR 1=1 --",
        "/api/v1/partner/reports/" + "9" * 5000,
    ],
)
def test_hostile_paths_are_plain_404s(client: Client, path: str) -> None:
    token = make_token("Both", Scope.HASHES, Scope.REPORTS)
    response = client.get(path, headers=bearer(token))
    assert response.status_code == 404


def test_the_compact_page_holds_the_same_changes_as_the_json_page(
    client: Client, token: str, shared: HashBank
) -> None:
    pdq = "ab" * 32
    records = [
        banks.make_record(position=0, kind="pdq", value=pdq, quality="90"),
        banks.make_record(position=1, kind="sha1", value="c" * 40, classification="national"),
        banks.make_record(position=2, kind="md5", value=md5(8), metadata={"note": "x", "n": [1]}),
    ]
    banks.entries_add(actor="tester", bank=shared, records=records)
    banks.entry_remove(actor="tester", bank_name="shared", value=md5(2), kind="md5")
    full = changes(client, token, "?limit=4").json()
    compact = changes(client, token, "?limit=4&format=compact").json()
    assert compact["format"] == "compact/1"
    assert (compact["next_cursor"], compact["more"]) == (full["next_cursor"], full["more"])

    def flat(page: dict[str, Any]) -> set[tuple[str, str, str, str]]:
        found = {(c["op"], c["type"], c["value"], c["classification"]) for c in page["changes"]}
        for group in page.get("groups", []):
            key = (group["op"], group["type"], group["classification"])
            found |= {(key[0], key[1], v, key[2]) for v in group["values"]}
        return found

    assert flat(compact) == flat(full)
    rest = changes(client, token, f"?format=compact&cursor={compact['next_cursor']}").json()
    whole = changes(client, token).json()
    assert flat(compact) | flat(rest) == flat(whole)
    assert ("remove", "md5", md5(2), "baseline") in flat(rest)
    # Quality and metadata travel in full form, so the compact form loses nothing.
    assert [c.get("quality") for c in rest["changes"]] == [90, None]
    assert rest["changes"][1]["metadata"] == {"note": "x", "n": [1]}
    assert [c.get("metadata") for c in whole["changes"] if c["value"] == md5(8)] == [
        {"note": "x", "n": [1]}
    ]
    assert rest["more"] is False


@pytest.mark.parametrize(
    "query", ["?format=xml", "?format=json&format=compact", "?format=COMPACT", "?format=%00"]
)
def test_an_unknown_format_is_400(client: Client, token: str, shared: HashBank, query: str) -> None:
    response = changes(client, token, query)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"format"}
