"""How ``partnerapi.hashpull`` applies a page it received: both forms, and what a hostile or
broken partner might send. (The two-instance test pulls over real HTTP; these feed pages the
way ``_get_page`` hands them over, to reach the cases a real Tipline never sends.)"""

from __future__ import annotations

from typing import Any

import pytest

from tipline.audit.models import AuditEntry
from tipline.matching import banks
from tipline.matching.models import BankEntry, HashBank
from tipline.partnerapi import hashpull
from tipline.partnerapi.models import Cursor

pytestmark = pytest.mark.django_db

SOURCE = hashpull.PullSource("https://partner.example", "shared", "mirror", "token")


def md5(n: int) -> str:
    return f"{n:032x}"


@pytest.fixture
def mirror() -> HashBank:
    return banks.bank_create(actor="tester", name="mirror", default_classification="unknown")


def compact(groups: list[Any], cursor: str = "10", changes: list[Any] | None = None) -> Any:
    return {
        "bank": "shared",
        "format": "compact/1",
        "groups": groups,
        "changes": changes or [],
        "next_cursor": cursor,
        "more": False,
    }


def active(bank: HashBank) -> set[tuple[str, str, str]]:
    rows = BankEntry.objects.filter(bank=bank, removed_at=None)
    return set(rows.values_list("kind", "value", "classification"))


def test_a_compact_page_is_applied_idempotently_and_audited(mirror: HashBank) -> None:
    page = compact(
        [
            {"op": "add", "type": "md5", "classification": "baseline", "values": [md5(1), md5(2)]},
            {"op": "add", "type": "sha1", "classification": "national", "values": ["a" * 40]},
        ],
        changes=[
            {"seq": 7, "op": "add", "type": "pdq", "value": "ab" * 32, "classification": "baseline",
             "quality": 80},
        ],
    )  # fmt: skip
    result = hashpull.PullResult()
    assert hashpull._apply(SOURCE, mirror, page, result) == 10
    assert (result.added, result.invalid) == (4, 0)
    assert active(mirror) == {
        ("md5", md5(1), "baseline"),
        ("md5", md5(2), "baseline"),
        ("sha1", "a" * 40, "national"),
        ("pdq", "ab" * 32, "baseline"),
    }
    assert BankEntry.objects.get(kind="pdq").quality == 80
    assert Cursor.objects.get(name=SOURCE.key).position == 10
    again = hashpull.PullResult(cursor=10)
    hashpull._apply(SOURCE, mirror, page, again)
    assert (again.added, again.updated, again.skipped) == (0, 0, 4)
    # A removal, then the same value added back with another classification: re-activated.
    gone = compact([{"op": "remove", "type": "md5", "classification": "baseline",
                     "values": [md5(1), md5(99)]}], cursor="11")  # fmt: skip
    removed = hashpull.PullResult(cursor=10)
    hashpull._apply(SOURCE, mirror, gone, removed)
    assert removed.removed == 1
    back = compact([{"op": "add", "type": "md5", "classification": "national",
                     "values": [md5(1), md5(3)]}], cursor="12")  # fmt: skip
    later = hashpull.PullResult(cursor=11)
    hashpull._apply(SOURCE, mirror, back, later)
    assert (later.added, later.updated) == (1, 1)
    assert ("md5", md5(1), "national") in active(mirror)
    audited = AuditEntry.objects.filter(action="hashes.import", actor__startswith="pull:")
    assert audited.count() >= 4


@pytest.mark.parametrize(
    ("group", "kept", "invalid"),
    [
        ({"op": "add", "type": "md5", "classification": "", "values": [md5(1), "zz" * 16]}, 1, 1),
        ({"op": "add", "type": "md5", "classification": "", "values": [md5(1), md5(2)[:31]]}, 1, 1),
        ({"op": "add", "type": "md5", "classification": "", "values": [md5(1), 7, None]}, 1, 2),
        ({"op": "add", "type": "md5", "classification": "", "values": [md5(1).upper()]}, 1, 0),
        ({"op": "add", "type": "md5", "classification": "", "values": [" " + md5(1)[1:]]}, 0, 1),
        ({"op": "add", "type": "crc32", "classification": "", "values": [md5(1)]}, 0, 1),
        ({"op": "add", "type": "md5", "classification": "secret", "values": [md5(1)]}, 0, 1),
        ({"op": "add", "type": "md5", "classification": "", "values": "not a list"}, 0, 1),
        ({"op": "add", "type": ["md5"], "classification": "", "values": [md5(1)]}, 0, 1),
    ],
)
def test_hostile_values_in_a_compact_group_are_counted_not_stored(
    mirror: HashBank, group: dict[str, Any], kept: int, invalid: int
) -> None:
    result = hashpull.PullResult()
    hashpull._apply(SOURCE, mirror, compact([group]), result)
    assert (len(active(mirror)), result.invalid) == (kept, invalid)
    assert all(len(v) == 32 and v == v.lower() for _k, v, _c in active(mirror))


def test_a_json_page_from_an_older_partner_is_still_read(mirror: HashBank) -> None:
    page = {
        "bank": "shared",
        "changes": [
            {"seq": 3, "op": "add", "type": "md5", "value": md5(1), "classification": "baseline"},
            {"seq": 4, "op": "add", "type": "md5", "value": "nothex", "classification": ""},
            {"seq": 5, "op": "remove", "type": "md5", "value": md5(1), "classification": ""},
        ],
        "next_cursor": "5",
        "more": False,
    }
    result = hashpull.PullResult()
    assert hashpull._apply(SOURCE, mirror, page, result) == 5
    assert (result.added, result.removed, result.invalid) == (1, 1, 1)
    assert active(mirror) == set()
