"""Nothing a reporter sends is readable at rest, and no client address is kept anywhere.

A real server (gunicorn + task worker) takes reports through the web form and the API with a
unique marker in every field and file, from a distinctive loopback source address and with
forwarding headers set. Then every byte under its data directory (database, SQLite journal/WAL,
evidence files, keys), the PostgreSQL cluster when one is used, the Redis and S3 servers' folders
on the scale-out profile (scripts/with-scaleout), and the server's logs is searched.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import png_bytes
from tests.live import LiveServer

CLIENT_ADDRESS = "127.45.67.89"
FORWARDED = {
    "X-Forwarded-For": "203.0.113.77, 198.51.100.1",
    "X-Real-IP": "198.51.100.23",
    "Forwarded": "for=192.0.2.60;proto=https",
    "User-Agent": "Mozilla/5.0 UAMARKER-agent",
}
ADDRESSES = ["127.45.67.89", "203.0.113.77", "198.51.100.23", "192.0.2.60", "UAMARKER"]


def _marker(field: str) -> str:
    return f"mk{field.replace('_', '')}{secrets.token_hex(6)}"


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


def _read(path: Path) -> bytes:
    # A running PostgreSQL replaces some cache files (pg_internal.init) while we walk its
    # folder; a file that vanished between listing and reading holds nothing to search.
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def _haystacks(server: LiveServer) -> list[Path]:
    paths = _files_under(server.data_dir) + _files_under(server.log_dir)
    for folder in ("TIPLINE_TEST_PGDATA", "TIPLINE_TEST_REDIS_DIR", "TIPLINE_TEST_S3_DIR"):
        if os.environ.get(folder):
            paths += _files_under(Path(os.environ[folder]))
    return paths


def test_markers_and_client_addresses_never_reach_disk_or_logs(fresh_server: LiveServer) -> None:
    markers: dict[str, str] = {}

    def m(field: str) -> str:
        markers[field] = _marker(field)
        return markers[field]

    transport = httpx.HTTPTransport(local_address=CLIENT_ADDRESS)
    with httpx.Client(
        base_url=fresh_server.url, transport=transport, headers=FORWARDED, timeout=60
    ) as web:
        text_file = f"evidence text {m('file_text')}\n".encode()
        form = {
            "what_happened": f"The person {m('what_happened')} waits outside the school.",
            "when": m("when"),
            "platform": m("platform"),
            "urls": f"https://{m('url_host')}.example/{m('url_path')}",
            "handles": f"@{m('handle')}",
            "emails": f"{m('email')}@example.org",
            "phones": "+1 613 555 0147",
            "victim_age_group": "6-12",
            "victim_name": m("victim_name"),
            "reporter_relation": "parent",
            "child_location": m("child_location"),
            "emergency_called": "yes",
            "contact_choice": "contact",
            "contact_name": m("contact_name"),
            "contact_email": f"{m('contact_email')}@example.net",
            "contact_phone": "+44 20 7946 0958",
            "contact_notes": m("contact_notes"),
        }
        files = [
            ("attachments", (f"{m('filename')}.txt", text_file, "text/plain")),
            ("attachments", ("shot.png", png_bytes(size=(300, 200), colour="navy"), "image/png")),
        ]
        page = web.post("/en/report/child_in_danger/", data=form, files=files)
        assert page.status_code == 200, page.text[:500]
        receipt = page.text.split('id="receipt"')[1].split(">")[1].split("<")[0]
        assert receipt in page.text

        # A rejected submission must not leave its content behind either.
        rejected = web.post(
            "/en/report/luring/", data={"what_happened": m("rejected"), "urls": "::"}
        )
        assert rejected.status_code == 400

        api = web.post(
            "/api/v1/reports",
            json={
                "category": "sextortion",
                "what_happened": m("api_text"),
                "deadline": m("api_deadline"),
                "handles": [m("api_handle")],
            },
        )
        assert api.status_code == 201
        thread = web.post(
            "/en/follow-up/message/",
            data={"receipt": receipt, "body": m("message_body")},
            files=[
                (
                    "attachments",
                    (f"{m('message_filename')}.txt", m("message_file").encode(), "text/plain"),
                )
            ],
        )
        assert thread.status_code == 200
        assert markers["message_body"] in thread.text
        api_message = web.post(
            "/api/v1/followup/messages",
            json={"receipt": api.json()["receipt"], "body": m("api_message")},
        )
        assert api_message.status_code == 201
        assert web.post("/api/v1/followup/status", json={"receipt": "WRONG"}).status_code == 404

    time.sleep(2)  # let the worker make previews, so its writes are searched too
    fresh_server.stop()

    needles = {name: value.encode() for name, value in markers.items()}
    needles |= {
        "phone": b"6135550147",
        "phone_spaced": b"613 555 0147",
        "contact_phone": b"7946 0958",
    }
    needles |= {f"address {a}": a.encode() for a in ADDRESSES}
    needles |= {"receipt": receipt.encode(), "receipt_plain": receipt.replace("-", "").encode()}
    searched = _haystacks(fresh_server)
    assert any(p.name.startswith("tipline.sqlite3") for p in searched) or os.environ.get(
        "TIPLINE_TEST_PGDATA"
    )
    if os.environ.get("TIPLINE_STORAGE") == "s3":
        assert any(Path(os.environ["TIPLINE_TEST_S3_DIR"]) in p.parents for p in searched)
    else:
        assert any("evidence" in p.parts for p in searched)
    # Positive control: plaintext columns (the category code) are found, so the search sees
    # the database files and would see a marker if one were there.
    assert any(b"child_in_danger" in _read(p) for p in searched)
    found = []
    for path in searched:
        lowered = _read(path).lower()
        for name, needle in needles.items():
            if needle.lower() in lowered:
                found.append(f"{name} in {path}")
    assert found == []


@pytest.mark.parametrize("reports", [12])
def test_acknowledged_reports_survive_a_kill_right_after_the_answer(
    fresh_server: LiveServer, reports: int
) -> None:
    receipts = []
    with httpx.Client(base_url=fresh_server.url) as client:
        for i in range(reports):
            answer = client.post(
                "/api/v1/reports",
                json={"category": "cyberstalking", "what_happened": f"Incident number {i}."},
            )
            assert answer.status_code == 201
            receipts.append(answer.json()["receipt"])
    fresh_server.kill()  # SIGKILL the server and worker the moment the last 201 arrived
    fresh_server.start()
    with httpx.Client(base_url=fresh_server.url) as client:
        for receipt in receipts:
            status = client.post("/api/v1/followup/status", json={"receipt": receipt})
            assert status.status_code == 200, receipt
