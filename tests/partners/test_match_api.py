"""POST /api/v1/match: exact and PDQ look-ups, a file upload, audit, and hostile input."""

from __future__ import annotations

import io
import json
import struct
import zlib
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from tests import factories
from tests.partners.conftest import bearer
from tests.pdq_data import pdq_data
from tipline.audit.models import AuditEntry
from tipline.matching import banks
from tipline.matching.hashing import hamming

pytestmark = pytest.mark.django_db

URL = "/api/v1/match"
PDQ_DATA = pdq_data()
# Meta's reference photo bridge-mods/aaa-orig.jpg and an edited copy (expected-pdq-bridge-mods.tsv).
ORIGINAL_PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
BLURRED_PDQ = "d8f8f0cce0f4e84f0637022a028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
FAR_PDQ = "0007001f003f003f007f00ff00ff00ff01ff01ff01ff03ff03ff03ff03ff03ff"
MD5 = "9b3f1c1ab1ce2b6f0ef4f3a2b15c6e3d"
SHA1 = "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"
SHA256 = "a" * 64


@pytest.fixture
def bank() -> None:
    created = banks.bank_create(actor="tester", name="iccam", default_classification="baseline")
    records = [
        banks.make_record(position=1, kind="pdq", value=ORIGINAL_PDQ, quality="100"),
        banks.make_record(position=2, kind="md5", value=MD5, classification="A1"),
        banks.make_record(position=3, kind="sha1", value=SHA1),
        banks.make_record(position=4, kind="sha256", value=SHA256),
    ]
    banks.entries_add(actor="tester", bank=created, records=records)


def _post(client: Client, token: str, body: Any) -> Any:
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(URL, raw, content_type="application/json", headers=bearer(token))


def _upload(client: Client, token: str, data: bytes, **extra: Any) -> Any:
    payload = {"file": io.BytesIO(data), **extra}
    payload["file"].name = "upload.bin"
    return client.post(URL, payload, headers=bearer(token))


def test_exact_md5_sha1_sha256_matches_report_bank_entry_classification_distance(
    client: Client, partner_token: str, bank: None
) -> None:
    body = {
        "hashes": [
            {"type": "md5", "value": MD5.upper()},
            {"type": "sha1", "value": SHA1},
            {"type": "sha256", "value": SHA256},
            {"type": "md5", "value": "0" * 32},
        ]
    }
    response = _post(client, partner_token, body)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["type"] for r in results] == ["md5", "sha1", "sha256", "md5"]
    assert results[0]["value"] == MD5  # normalised to lower case
    summary = [
        [(m["bank"], m["type"], m["classification"], m["distance"]) for m in r["matches"]]
        for r in results
    ]
    assert summary == [
        [("iccam", "md5", "A1", 0)],
        [("iccam", "sha1", "baseline", 0)],
        [("iccam", "sha256", "baseline", 0)],
        [],
    ]
    assert all(isinstance(r["matches"][0]["entry"], int) for r in results[:3])


def test_pdq_within_distance_reports_the_distance_and_max_distance_narrows_it(
    client: Client, partner_token: str, bank: None
) -> None:
    distance = hamming(ORIGINAL_PDQ, BLURRED_PDQ)
    assert 0 < distance <= 31
    body = {"hashes": [{"type": "pdq", "value": BLURRED_PDQ}, {"type": "pdq", "value": FAR_PDQ}]}
    near, far = _post(client, partner_token, body).json()["results"]
    assert [(m["bank"], m["type"], m["distance"]) for m in near["matches"]] == [
        ("iccam", "pdq", distance)
    ]
    assert far["matches"] == []
    narrow = {"hashes": [{"type": "pdq", "value": BLURRED_PDQ}], "max_distance": distance - 1}
    assert _post(client, partner_token, narrow).json()["results"][0]["matches"] == []
    exact = {"hashes": [{"type": "pdq", "value": ORIGINAL_PDQ}], "max_distance": 0}
    assert _post(client, partner_token, exact).json()["results"][0]["matches"][0]["distance"] == 0


@pytest.mark.skipif(not PDQ_DATA.is_dir(), reason="PDQ reference photos not present")
def test_an_uploaded_variant_of_a_banked_photo_matches_and_is_not_stored(
    client: Client, partner_token: str, bank: None
) -> None:
    photo = (PDQ_DATA / "bridge-mods" / "blur-a-lot.jpg").read_bytes()
    response = _upload(client, partner_token, photo)
    assert response.status_code == 200
    answer = response.json()
    assert answer["file"]["pdq"] == BLURRED_PDQ
    assert answer["file"]["kind"] == "image"
    assert answer["file"]["size"] == len(photo)
    assert answer["file"]["pdq_refused"] is None
    assert [(m["type"], m["distance"]) for m in answer["matches"]] == [
        ("pdq", hamming(ORIGINAL_PDQ, BLURRED_PDQ))
    ]
    unrelated = (PDQ_DATA / "misc-images" / "c.png").read_bytes()
    assert _upload(client, partner_token, unrelated, max_distance="31").json()["matches"] == []
    from tipline.cases.models import EvidenceFile

    assert not EvidenceFile.objects.exists()


def test_every_lookup_is_audited_with_counts_never_hash_values(
    client: Client, partner_token: str, bank: None
) -> None:
    body = {"hashes": [{"type": "pdq", "value": BLURRED_PDQ}, {"type": "md5", "value": MD5}]}
    assert _post(client, partner_token, body).status_code == 200
    assert _upload(client, partner_token, factories.png_bytes()).status_code == 200
    first, second = AuditEntry.objects.filter(action="api.match").order_by("seq")
    assert first.actor.startswith("credential:")
    assert (first.details["queries"], first.details["matches"], first.details["upload"]) == (
        2,
        2,
        False,
    )
    assert len(first.details["entries"]) == 2
    assert (second.details["queries"], second.details["matches"], second.details["upload"]) == (
        1,
        0,
        True,
    )
    text = json.dumps([first.details, second.details])
    for value in (BLURRED_PDQ, MD5, ORIGINAL_PDQ):
        assert value not in text


def test_a_refused_request_is_not_audited_as_a_lookup(client: Client, partner_token: str) -> None:
    assert _post(client, partner_token, {"hashes": []}).status_code == 400
    assert client.post(URL, {}, content_type="application/json").status_code == 401
    assert not AuditEntry.objects.filter(action="api.match").exists()


BAD_BODIES: list[tuple[str, Any, str]] = [
    ("no hashes", {}, "hashes"),
    ("empty list", {"hashes": []}, "hashes"),
    ("not a list", {"hashes": "md5:abc"}, "hashes"),
    ("too many", {"hashes": [{"type": "md5", "value": MD5}] * 101}, "hashes"),
    ("huge list", {"hashes": [0] * 100_000}, "hashes"),
    ("unknown field", {"hashes": [{"type": "md5", "value": MD5}], "bank": "x"}, "bank"),
    ("item not object", {"hashes": [MD5]}, "hashes.0"),
    ("extra key", {"hashes": [{"type": "md5", "value": MD5, "x": 1}]}, "hashes.0"),
    ("unknown type", {"hashes": [{"type": "crc32", "value": "abcd1234"}]}, "hashes.0.type"),
    ("type not str", {"hashes": [{"type": ["md5"], "value": MD5}]}, "hashes.0.type"),
    ("md5 too short", {"hashes": [{"type": "md5", "value": MD5[:-1]}]}, "hashes.0.value"),
    ("md5 as sha1", {"hashes": [{"type": "sha1", "value": MD5}]}, "hashes.0.value"),
    ("pdq too long", {"hashes": [{"type": "pdq", "value": ORIGINAL_PDQ + "0"}]}, "hashes.0.value"),
    ("non-hex", {"hashes": [{"type": "md5", "value": "g" * 32}]}, "hashes.0.value"),
    ("unicode digits", {"hashes": [{"type": "md5", "value": "٣" * 32}]}, "hashes.0.value"),
    ("spaces", {"hashes": [{"type": "md5", "value": f" {MD5}"}]}, "hashes.0.value"),
    ("value not str", {"hashes": [{"type": "md5", "value": 12345}]}, "hashes.0.value"),
    ("empty value", {"hashes": [{"type": "md5", "value": ""}]}, "hashes.0.value"),
    ("huge value", {"hashes": [{"type": "md5", "value": "a" * 500_000}]}, "hashes.0.value"),
    (
        "max_distance 32",
        {"hashes": [{"type": "md5", "value": MD5}], "max_distance": 32},
        "max_distance",
    ),
    (
        "max_distance huge",
        {"hashes": [{"type": "md5", "value": MD5}], "max_distance": 10**30},
        "max_distance",
    ),
    (
        "max_distance -1",
        {"hashes": [{"type": "md5", "value": MD5}], "max_distance": -1},
        "max_distance",
    ),
    (
        "max_distance bool",
        {"hashes": [{"type": "md5", "value": MD5}], "max_distance": True},
        "max_distance",
    ),
    (
        "max_distance str",
        {"hashes": [{"type": "md5", "value": MD5}], "max_distance": "5"},
        "max_distance",
    ),
    (
        "max_distance null",
        {"hashes": [{"type": "md5", "value": MD5}], "max_distance": None},
        "max_distance",
    ),
    (
        "max_distance float",
        {"hashes": [{"type": "md5", "value": MD5}], "max_distance": 5.5},
        "max_distance",
    ),
]


@pytest.mark.parametrize(("name", "body", "field"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_malformed_queries_are_refused_per_field_without_echoing_values(
    client: Client, partner_token: str, name: str, body: Any, field: str
) -> None:
    response = _post(client, partner_token, body)
    assert response.status_code == 400, name
    errors = response.json()["errors"]
    assert field in errors, errors
    assert "g" * 32 not in response.content.decode()
    assert len(response.content) < 10_000


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"[" * 100_000 + b"]" * 100_000, 400),  # nesting bomb: RecursionError, not a crash
        (b'{"hashes": [], "max_distance": ' + b"9" * 50_000 + b"}", 400),  # giant integer
        (b'{"hashes": [{"type": "md5", "value": "' + b"a" * 1_100_000 + b'"}]}', 413),
        (b"\xff\xfe not json", 400),
        (b"[1, 2, 3]", 400),
        (b"null", 400),
    ],
    ids=["deep", "bigint", "too-large", "bytes", "array", "null"],
)
def test_json_bombs_and_junk(client: Client, partner_token: str, raw: bytes, status: int) -> None:
    response = _post(client, partner_token, raw)
    assert response.status_code == status
    assert "errors" in response.json()


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "application/json-seq"],
)
def test_other_content_types_get_415(client: Client, partner_token: str, content_type: str) -> None:
    body = json.dumps({"hashes": [{"type": "md5", "value": MD5}]})
    response = client.post(URL, body, content_type=content_type, headers=bearer(partner_token))
    assert response.status_code == 415


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb's first step)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_bad_files_are_refused_or_reported_with_a_reason(
    client: Client, partner_token: str, settings: Any
) -> None:
    bomb = _upload(client, partner_token, _png_claiming(50_000, 50_000)).json()
    assert bomb["file"]["pdq"] is None
    assert "too large" in bomb["file"]["pdq_refused"]
    png = factories.png_bytes()
    corrupt = _upload(client, partner_token, png[: len(png) // 2]).json()
    assert corrupt["file"]["pdq"] is None
    assert "truncated" in corrupt["file"]["pdq_refused"]
    # A text file declared as an image is hashed as what it is: exact hashes only, no PDQ.
    text = io.BytesIO(b"just some text\n")
    text.name = "photo.jpg"
    answer = client.post(URL, {"file": text}, headers=bearer(partner_token)).json()
    assert (answer["file"]["kind"], answer["file"]["pdq"]) == ("other", None)
    assert _upload(client, partner_token, b"").status_code == 400
    settings.TIPLINE_MAX_FILE_BYTES = 10_000
    big = io.BytesIO()
    Image.effect_noise((200, 200), 64).save(big, format="PNG")
    assert len(big.getvalue()) > 10_000
    too_large = _upload(client, partner_token, big.getvalue())
    assert too_large.status_code == 413
    assert "file" in too_large.json()["errors"]
    # Just under the body limit, so the upload handler (not the length check) refuses it.
    settings.TIPLINE_MAX_FILE_BYTES = len(big.getvalue()) - 1
    handler_refused = _upload(client, partner_token, big.getvalue())
    assert handler_refused.status_code == 413
    # Many small files in one body are refused by length before anything is parsed.
    settings.TIPLINE_MAX_FILE_BYTES = 10_000
    many = [io.BytesIO(b"x" * 9_000) for _ in range(10)]
    refused = client.post(URL, {"file": many}, headers=bearer(partner_token))
    assert refused.status_code == 413


def test_multipart_shape_is_checked(client: Client, partner_token: str) -> None:
    png = factories.png_bytes()
    two = client.post(
        URL, {"file": [io.BytesIO(png), io.BytesIO(png)]}, headers=bearer(partner_token)
    )
    assert "file" in two.json()["errors"]
    missing = client.post(URL, {"max_distance": "3"}, headers=bearer(partner_token))
    assert "file" in missing.json()["errors"]
    as_text = client.post(URL, {"file": "not a file part"}, headers=bearer(partner_token))
    assert "file" in as_text.json()["errors"]
    extra = _upload(client, partner_token, png, note="hello")
    assert "note" in extra.json()["errors"]
    for bad in ("32", "-1", "1.5", "abc", "٣", "0031"):
        refused = _upload(client, partner_token, png, max_distance=bad)
        assert refused.status_code == 400, bad
        assert "max_distance" in refused.json()["errors"]
    broken = client.generic(
        "POST",
        URL,
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
        content_type="multipart/form-data; boundary=x",
        headers=bearer(partner_token),
    )
    assert broken.status_code in (200, 400)
    no_boundary = client.generic(
        "POST", URL, b"abc", content_type="multipart/form-data", headers=bearer(partner_token)
    )
    assert no_boundary.status_code == 400
