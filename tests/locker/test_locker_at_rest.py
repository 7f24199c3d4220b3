"""Nothing a victim puts in their locker is readable at rest (the test_privacy_at_rest method).

A real server (gunicorn + worker) gets a locker created, a chat imported, an incident written and
edited, a neutral title and a person responsible set, exports made and the log handed over, each
carrying a unique marker. Then every byte under its data directory (database, WAL, evidence
store, keys), the PostgreSQL cluster when one is used, and its logs is searched for the markers,
the passphrase, the session tokens and the hand-off tickets of the opening redirects.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

import httpx

from tests.live import LiveServer
from tests.test_privacy_at_rest import _haystacks, _read


def _token(html: str) -> str:
    found = re.search(r'name="session" value="([^"]+)"', html)
    assert found, html[:1000]
    return found.group(1)


def _ticket(answer: httpx.Response) -> str:
    """The hand-off ticket of the redirect that answers a right passphrase."""
    assert answer.status_code == 303, answer.text[:500]
    found = re.search(r"[?&]t=([^&]+)", answer.headers["location"])
    assert found, answer.headers["location"]
    return found.group(1)


def test_locker_contents_never_reach_disk_or_logs_in_the_clear(fresh_server: LiveServer) -> None:
    markers = {
        name: f"mk{name}{secrets.token_hex(6)}"
        for name in (
            "sender",
            "text",
            "filename",
            "incident",
            "edit",
            "impact",
            "title",
            "note",
        )
    }
    chat = (
        f"12/03/2026, 21:04 - {markers['sender']}: I know where you live {markers['text']}\n"
        "12/03/2026, 21:05 - Me: please stop\n"
    ).encode()
    with httpx.Client(base_url=fresh_server.url, timeout=60) as web:
        page = web.get("/en/locker/create/")
        phrase = re.search(r'name="generated" value="([^"]+)"', page.text)
        assert phrase
        made = web.post(
            "/en/locker/create/",
            data={"generated": phrase.group(1), "choice": "generated", "written_down": "on"},
        )
        ticket = _ticket(made)
        token = _token(web.get(made.headers["location"]).text)
        imported = web.post(
            "/en/locker/import/",
            data={"session": token, "upload": "1"},
            files={"file": (f"{markers['filename']}.txt", chat, "text/plain")},
        )
        assert "was imported" in imported.text
        saved = web.post(
            "/en/locker/incidents/save/",
            data={
                "session": token,
                "what_happened": markers["incident"],
                "impact": markers["impact"],
            },
        )
        assert saved.status_code == 200
        incident = re.search(r'name="edit" value="(\d+)"', saved.text)
        assert incident
        web.post(
            "/en/locker/incidents/save/",
            data={
                "session": token,
                "incident": incident.group(1),
                "what_happened": markers["edit"],
            },
        )
        web.post(
            "/en/locker/settings/", data={"session": token, "title": markers["title"], "save": "1"}
        )
        web.post(
            "/en/locker/timeline/responsible/",
            data={"session": token, "responsible": markers["sender"]},
        )
        assert markers["text"] in web.post("/en/locker/timeline/", data={"session": token}).text
        assert web.post("/en/locker/export/pdf/", data={"session": token}).status_code == 200
        assert web.post("/en/locker/export/zip/", data={"session": token}).status_code == 200
        sent = web.post(
            "/en/locker/hand-over/",
            data={
                "session": token,
                "scope": "all",
                "confirm": "on",
                "send": "1",
                "note": markers["note"],
            },
        )
        assert sent.status_code == 200
        receipt = re.search(r'id="receipt"[^>]*>([^<]+)<', sent.text)
        assert receipt  # kept in the locker too: sealed, like everything else in it
        reopened = web.post("/en/locker/open/", data={"passphrase": phrase.group(1)})
        second_ticket = _ticket(reopened)
        second = _token(web.get(reopened.headers["location"]).text)
        web.post("/en/locker/lock/", data={"session": token})

    time.sleep(2)  # let the worker process the handed-over report, so its writes are searched
    fresh_server.stop()
    needles = {name: value.encode() for name, value in markers.items()}
    needles["passphrase"] = phrase.group(1).encode()
    needles["passphrase word pair"] = " ".join(phrase.group(1).split()[:2]).encode()
    needles["session"] = token.encode()
    needles["second session"] = second.encode()
    needles["receipt"] = receipt.group(1).encode()
    needles["ticket"] = ticket.encode()
    needles["second ticket"] = second_ticket.encode()
    searched = _haystacks(fresh_server)
    if os.environ.get("TIPLINE_TEST_S3_DIR"):  # the scale-out profile: evidence in the bucket
        assert any(Path(os.environ["TIPLINE_TEST_S3_DIR"]) in p.parents for p in searched)
    else:
        assert any("evidence" in p.parts for p in searched)
    found = []
    for path in searched:
        content = _read(path).lower()
        found += [f"{name} in {path}" for name, n in needles.items() if n.lower() in content]
    assert found == []
