"""Credential lifecycle: create, list, revoke; digest-only storage; audit; the CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests import factories
from tests.live import TIPLINE
from tipline.audit.models import AuditEntry
from tipline.crypto.box import credential_digest
from tipline.partners import actions, selectors
from tipline.partners.models import ApiCredential

pytestmark = pytest.mark.django_db


def test_create_returns_a_token_once_and_stores_only_its_keyed_digest() -> None:
    created = actions.credential_create(
        actor="tester", name="Example Platform", kind="partner", scopes=["match"]
    )
    token = created.token
    assert actions.TOKEN_PATTERN.fullmatch(token)
    assert len(token) == 3 + 52
    credential = ApiCredential.objects.get()
    assert credential.token_digest == credential_digest(token)
    assert credential.token_digest != token
    assert (credential.kind, credential.scopes, credential.created_by) == (
        "partner",
        ["match"],
        "tester",
    )
    # Nowhere in the database: not in the credential, not in the audit log, not in any table.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            rows = repr(cursor.fetchall())
            assert token not in rows, table
            assert token[3:] not in rows, table


def test_each_token_is_new_and_digests_differ() -> None:
    tokens = {
        actions.credential_create(
            actor="tester", name=f"p{i}", kind="partner", scopes=["match"]
        ).token
        for i in range(5)
    }
    assert len(tokens) == 5
    assert ApiCredential.objects.values("token_digest").distinct().count() == 5


def test_create_and_revoke_are_audited_without_token_or_digest() -> None:
    created = actions.credential_create(
        actor="tester", name="Hotline B", kind="partner", scopes=["match", "match"]
    )
    assert created.credential.scopes == ["match"]
    actions.credential_revoke(actor="tester", credential_id=created.credential.pk)
    entries = AuditEntry.objects.filter(target_type="api_credential").order_by("seq")
    assert [e.action for e in entries] == ["credential.create", "credential.revoke"]
    text = json.dumps([e.details for e in entries])
    assert created.token not in text
    assert created.credential.token_digest not in text
    created.credential.refresh_from_db()
    assert created.credential.revoked_at is not None
    with pytest.raises(actions.InvalidCredentialInput, match="already revoked"):
        actions.credential_revoke(actor="tester", credential_id=created.credential.pk)
    with pytest.raises(actions.CredentialNotFound):
        actions.credential_revoke(actor="tester", credential_id=999_999)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": " ", "kind": "partner", "scopes": ["match"]}, "name"),
        ({"name": "x" * 101, "kind": "partner", "scopes": ["match"]}, "name"),
        ({"name": "P", "kind": "robot", "scopes": ["match"]}, "Unknown kind"),
        ({"name": "P", "kind": "partner", "scopes": []}, "at least one scope"),
        ({"name": "P", "kind": "partner", "scopes": ["admin"]}, "Unknown scope"),
        ({"name": "P", "kind": "staff", "scopes": ["match"]}, "needs the staff member"),
        ({"name": "P", "kind": "staff", "scopes": ["match"], "user_ref": "nobody"}, "No single"),
        ({"name": "P", "kind": "partner", "scopes": ["match"], "user_ref": "ana"}, "organisation"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    kwargs: dict[str, object], message: str
) -> None:
    factories.staff("ana", "analyst")
    with pytest.raises(actions.InvalidCredentialInput, match=message):
        actions.credential_create(actor="tester", **kwargs)  # type: ignore[arg-type]
    assert not ApiCredential.objects.exists()
    assert not AuditEntry.objects.filter(action="credential.create").exists()


def test_a_staff_credential_is_linked_to_the_member_by_email_or_username() -> None:
    user = factories.staff("ana", "analyst").user
    user.email = "ana@hotline.example"
    user.save(update_fields=["email"])
    by_email = actions.credential_create(
        actor="tester",
        name="Ana's scripts",
        kind="staff",
        scopes=["match"],
        user_ref="ANA@hotline.example",
    )
    by_name = actions.credential_create(
        actor="tester", name="Ana's laptop", kind="staff", scopes=["match"], user_ref="ana"
    )
    assert by_email.credential.user == user
    assert by_name.credential.user == user


def test_cli_create_list_revoke(capsys: pytest.CaptureFixture[str]) -> None:
    user = factories.staff("ana", "analyst").user
    user.email = "ana@hotline.example"
    user.save(update_fields=["email"])
    call_command(
        "credentials", "create", "--name", "Platform X", "--kind", "partner", "--scope", "match"
    )
    out = capsys.readouterr().out.splitlines()
    token = out[-1]
    assert actions.TOKEN_PATTERN.fullmatch(token)
    call_command(
        "credentials",
        "create",
        "--name",
        "Ana",
        "--kind",
        "staff",
        "--user",
        "ana@hotline.example",
        "--scope",
        "match",
    )
    capsys.readouterr()
    call_command("credentials", "list")
    listing = capsys.readouterr().out
    assert "Platform X" in listing
    assert "ana" in listing
    assert token not in listing
    first = selectors.credential_list().first()
    assert first is not None
    call_command("credentials", "revoke", str(first.pk))
    assert "revoked credential" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already revoked"):
        call_command("credentials", "revoke", str(first.pk))
    with pytest.raises(CommandError, match="needs the staff member"):
        call_command("credentials", "create", "--name", "S", "--kind", "staff", "--scope", "match")
    assert AuditEntry.objects.filter(actor="cli", action="credential.create").count() == 2


def test_the_tipline_command_has_credentials_with_help(tmp_path: Path) -> None:
    env = dict(
        os.environ, TIPLINE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="tipline.settings"
    )
    for args in (["credentials", "--help"], ["credentials", "create", "--help"]):
        result = subprocess.run(
            [*TIPLINE, *args], env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert "usage: tipline credentials" in result.stdout
