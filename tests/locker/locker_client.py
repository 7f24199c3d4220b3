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


def continued(client: Client, answer: Any) -> str:
    """Follow the redirect that answers a right passphrase; the session token it hands over.

    The redirect goes to a page with only a "Continue" button: the token is in its hidden field.
    """
    assert answer.status_code == 303, answer.content[:2000]
    assert answer["Location"].startswith("/en/locker/continue/?t="), answer["Location"]
    page = client.get(answer["Location"])
    assert page.status_code == 200
    return token_of(page.content.decode())


def create(client: Client, passphrase: str | None = None) -> tuple[str, str]:
    """Create a locker; returns (passphrase, session token)."""
    phrase = passphrase or pp.generate()
    answer = client.post(
        "/en/locker/create/",
        {"generated": phrase, "choice": "generated", "written_down": "on"},
    )
    return phrase, continued(client, answer)


def open_locker(client: Client, phrase: str) -> str:
    """Open a locker with its passphrase; returns the session token."""
    return continued(client, client.post("/en/locker/open/", {"passphrase": phrase}))


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
