"""The HTTP Basic secret of a cybertipline credential: shown once, stored as a keyed digest,
replaceable, and never interchangeable with the bearer token."""

from __future__ import annotations

import base64
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tipline.audit.models import AuditEntry
from tipline.partners.actions import credential_create
from tipline.partners.models import ApiCredential

pytestmark = pytest.mark.django_db


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_create_prints_username_and_secret_once_and_stores_only_a_digest(client: Client) -> None:
    out = io.StringIO()
    call_command(
        "credentials", "create", "--name", "Platform", "--kind", "partner",
        "--scope", "cybertipline", stdout=out,
    )  # fmt: skip
    username = re.search(r"^username: (\S+)$", out.getvalue(), re.M).group(1)  # type: ignore[union-attr]
    secret = re.search(r"^password: (\S+)$", out.getvalue(), re.M).group(1)  # type: ignore[union-attr]
    credential = ApiCredential.objects.get()
    assert username == f"credential-{credential.pk}"
    assert credential.secret_hash
    assert secret not in credential.secret_hash
    assert (
        client.get("/ispws/status", HTTP_AUTHORIZATION=_basic(username, secret)).status_code == 200
    )


def test_a_match_only_credential_has_no_secret() -> None:
    created = credential_create(actor="t", name="Bank", kind="partner", scopes=["match"])
    assert created.secret == ""
    assert created.credential.secret_hash == ""
    with pytest.raises(CommandError, match="lacks the scope"):
        call_command("credentials", "secret", str(created.credential.pk), stdout=io.StringIO())


def test_a_new_secret_replaces_the_old_one(client: Client) -> None:
    created = credential_create(actor="t", name="P", kind="partner", scopes=["cybertipline"])
    username = f"credential-{created.credential.pk}"
    out = io.StringIO()
    call_command("credentials", "secret", str(created.credential.pk), stdout=out)
    new = re.search(r"^password: (\S+)$", out.getvalue(), re.M).group(1)  # type: ignore[union-attr]
    assert (
        client.get("/ispws/status", HTTP_AUTHORIZATION=_basic(username, created.secret)).status_code
        == 401
    )
    assert client.get("/ispws/status", HTTP_AUTHORIZATION=_basic(username, new)).status_code == 200
    entry = AuditEntry.objects.filter(action="credential.secret").get()
    assert new not in str(entry.details)


def test_someone_elses_secret_does_not_open_my_username(client: Client) -> None:
    mine = credential_create(actor="t", name="A", kind="partner", scopes=["cybertipline"])
    theirs = credential_create(actor="t", name="B", kind="partner", scopes=["cybertipline"])
    response = client.get(
        "/ispws/status",
        HTTP_AUTHORIZATION=_basic(f"credential-{mine.credential.pk}", theirs.secret),
    )
    assert response.status_code == 401
