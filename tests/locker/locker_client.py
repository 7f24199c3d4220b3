"""Drive the locker through the Django test client, the way a browser without JavaScript does."""

from __future__ import annotations

import io
import re
from typing import Any

from django.test import Client
from django.test.client import MULTIPART_CONTENT

from tipline.crypto import passphrase as pp

SESSION = re.compile(r'name="session" value="([^"]+)"')
WHATSAPP = (
    b"12/03/2026, 21:04 - Alex: I know where you live\n"
    b"12/03/2026, 21:05 - Me: please stop writing to me\n"
    b"13/03/2026, 07:30 - Alex: I will wait outside\n"
)


def token_of(html: str) -> str:
    found = SESSION.search(html)
    assert found, "page carries no session token"
    return found.group(1)


def create(client: Client, passphrase: str | None = None) -> tuple[str, str]:
    """Create a locker; returns (passphrase, session token)."""
    phrase = passphrase or pp.generate()
    answer = client.post(
        "/en/locker/create/",
        {"generated": phrase, "choice": "generated", "written_down": "on"},
    )
    assert answer.status_code == 200, answer.content[:2000]
    return phrase, token_of(answer.content.decode())


def post(client: Client, route: str, token: str, **data: Any) -> Any:
    return client.post(f"/en/locker/{route}", {"session": token, **data})


def upload(client: Client, token: str, data: bytes, name: str = "chat.txt") -> Any:
    file = io.BytesIO(data)
    file.name = name
    return client.post(
        "/en/locker/import/",
        {"session": token, "upload": "1", "file": file},
        content_type=MULTIPART_CONTENT,
    )
