"""Sign a staff member in through the real two steps (password, then a TOTP code)."""

from __future__ import annotations

from django.test import Client

from tests.factories import STAFF_PASSWORD, staff, totp_code


def signed_in(username: str, role: str = "analyst", *, agency: str = "") -> tuple[Client, object]:
    """A client holding a fully verified console session, and the created staff member."""
    if role == "liaison" and not agency:
        agency = "Metro Police"
    created = staff(username, role, agency=agency)
    client = Client()
    first = client.post("/console/sign-in/", {"username": username, "password": STAFF_PASSWORD})
    assert first["Location"] == "/console/sign-in/code/"
    second = client.post("/console/sign-in/code/", {"code": totp_code(created.device)})
    # Where a role lands: the queue, or the audit log for an auditor (who sees no reports).
    landing = "/console/audit/" if role == "auditor" else "/console/queue/"
    assert second["Location"] == landing, "sign-in did not complete"
    return client, created.user
