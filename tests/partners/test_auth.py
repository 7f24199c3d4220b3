"""Refusals: every unusable credential gets the same 401; only a missing scope gets 403."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.partners.conftest import bearer
from tipline.partners import actions
from tipline.partners.models import ApiCredential
from tipline.staff import actions as staff_actions

pytestmark = pytest.mark.django_db

URL = "/api/v1/match"
BODY = {"hashes": [{"type": "md5", "value": "0" * 32}]}


def _post(client: Client, authorization: str | None = None) -> tuple[int, bytes, str | None]:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post(URL, BODY, content_type="application/json", headers=headers)
    return response.status_code, response.content, response.headers.get("WWW-Authenticate")


def test_a_valid_token_is_accepted(client: Client, partner_token: str) -> None:
    status, _body, _header = _post(client, "Bearer " + partner_token)
    assert status == 200
    assert ApiCredential.objects.get().last_used_at is not None


def test_missing_malformed_unknown_and_revoked_tokens_get_one_identical_401(
    client: Client, partner_token: str
) -> None:
    revoked = actions.credential_create(
        actor="tester", name="Old partner", kind="partner", scopes=["match"]
    )
    actions.credential_revoke(actor="tester", credential_id=revoked.credential.pk)
    unknown = actions.new_token()
    answers = {
        "missing": _post(client),
        "empty": _post(client, ""),
        "basic": _post(client, "Basic dXNlcjpwYXNz"),
        "no token": _post(client, "Bearer "),
        "not ours": _post(client, "Bearer abc.def.ghi"),
        "truncated": _post(client, "Bearer " + partner_token[:-1]),
        "upper case": _post(client, "Bearer " + partner_token.upper()),
        "trailing junk": _post(client, "Bearer " + partner_token + "a"),
        "two tokens": _post(client, f"Bearer {partner_token} {partner_token}"),
        "control chars": _post(client, "Bearer tl_\x00\x01"),
        "huge": _post(client, "Bearer " + "a" * 20_000),
        "unknown": _post(client, "Bearer " + unknown),
        "revoked": _post(client, "Bearer " + revoked.token),
    }
    first = answers["missing"]
    assert first[0] == 401
    assert first[2] == 'Bearer realm="tipline"'
    for name, answer in answers.items():
        assert answer == first, name


def test_a_deactivated_staff_members_credential_stops_working(client: Client) -> None:
    factories.staff("ana", "analyst")
    created = actions.credential_create(
        actor="tester", name="Ana", kind="staff", scopes=["match"], user_ref="ana"
    )
    assert _post(client, "Bearer " + created.token)[0] == 200
    staff_actions.staff_disable(actor=None, username="ana")
    refused = _post(client, "Bearer " + created.token)
    assert refused == _post(client)  # exactly like no token at all


def test_a_token_without_the_scope_gets_403(client: Client, partner_token: str) -> None:
    created = actions.credential_create(
        actor="tester", name="Future", kind="partner", scopes=["match"]
    )
    # Scopes of later routes: stored as a list, so a credential may hold only those.
    ApiCredential.objects.filter(pk=created.credential.pk).update(scopes=["reports:submit"])
    status, body, header = _post(client, "Bearer " + created.token)
    assert status == 403
    assert b"insufficient_scope" in body
    assert header is not None
    assert 'error="insufficient_scope"' in header


def test_the_wrong_method_is_refused_before_authentication(client: Client) -> None:
    assert client.get(URL).status_code == 405


def test_per_credential_rate_limit(client: Client, partner_token: str, settings: object) -> None:
    settings.TIPLINE_API_LOOKUPS_PER_MINUTE = 3  # type: ignore[attr-defined]
    two = {"hashes": [{"type": "md5", "value": "0" * 32}, {"type": "sha1", "value": "1" * 40}]}
    ok = client.post(URL, two, content_type="application/json", headers=bearer(partner_token))
    assert ok.status_code == 200
    refused = client.post(URL, two, content_type="application/json", headers=bearer(partner_token))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    other = actions.credential_create(
        actor="tester", name="Other", kind="partner", scopes=["match"]
    )
    assert (
        client.post(
            URL, two, content_type="application/json", headers=bearer(other.token)
        ).status_code
        == 200
    )
