"""Deleting a locker: asked twice (Settings, then the passphrase), then crypto-shredded.

After it the passphrase opens nothing, no row of the locker is left, and its evidence objects
are gone from the store; a wrong passphrase, a dead session or a GET deletes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.locker.locker_client import WHATSAPP, create, post, upload
from tipline import storage
from tipline.locker.models import (
    EvidenceFile,
    Incident,
    IncidentVersion,
    Locker,
    LockerHandoff,
    LockerSession,
)

pytestmark = pytest.mark.django_db


def _filled(client: Client) -> tuple[str, str]:
    phrase, token = create(client)
    upload(client, token, WHATSAPP, "WhatsApp Chat with Alex.txt")
    post(client, "incidents/save/", token, what_happened="He waited outside my work.")
    return phrase, token


def test_deleting_asks_twice_then_shreds_everything(
    client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    phrase, token = _filled(client)
    objects = {
        name for row in EvidenceFile.objects.all() for name in (row.object_id, row.items_object_id)
    }
    assert all(storage.read_object(object_id) for object_id in objects)
    # First: the Settings page offers it; the button only asks.
    assert "Delete this locker" in post(client, "settings/", token).content.decode()
    asked = post(client, "delete/", token)
    assert asked.status_code == 200
    assert "Type your passphrase to delete this locker for ever" in asked.content.decode()
    assert Locker.objects.count() == 1
    # Second: the passphrase. A wrong one deletes nothing and is not echoed.
    wrong = post(client, "delete/", token, confirm="1", passphrase=phrase + " nope")
    assert wrong.status_code == 400
    assert "Nothing was deleted" in wrong.content.decode()
    assert phrase.split()[0] + " " + phrase.split()[1] not in wrong.content.decode()
    assert Locker.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        done = post(client, "delete/", token, confirm="1", passphrase=phrase.upper())
    assert done.status_code == 303
    assert done["Location"] == "/en/locker/?problem=deleted"
    assert "Your locker was deleted" in client.get(done["Location"]).content.decode()
    for model in (Locker, LockerSession, LockerHandoff, EvidenceFile, Incident, IncidentVersion):
        assert not model.objects.exists(), model.__name__
    for object_id in objects:
        with pytest.raises(storage.StorageError):
            storage.read_object(object_id)
    # The passphrase opens nothing any more; the old session is dead.
    reopened = client.post("/en/locker/open/", {"passphrase": phrase})
    assert reopened["Location"] == "/en/locker/open/?problem=wrong"
    assert post(client, "mine/", token).status_code == 403


def test_another_lockers_passphrase_does_not_delete_this_one(client: Client) -> None:
    _phrase, token = _filled(client)
    other, _other_token = create(Client())
    refused = post(client, "delete/", token, confirm="1", passphrase=other)
    assert refused.status_code == 400
    assert Locker.objects.count() == 2


def test_delete_needs_a_live_session_and_a_post(client: Client) -> None:
    phrase, token = _filled(client)
    assert client.get("/en/locker/delete/", {"passphrase": phrase}).status_code == 200
    post(client, "lock/", token)
    dead = post(client, "delete/", token, confirm="1", passphrase=phrase)
    assert dead.status_code == 403
    assert Locker.objects.count() == 1


@pytest.mark.parametrize("typed", ["", "x" * 201, "\x00" * 10])
def test_hostile_confirmations_delete_nothing(client: Client, typed: str) -> None:
    _phrase, token = _filled(client)
    answer = post(client, "delete/", token, confirm="1", passphrase=typed)
    assert answer.status_code == 400
    assert Locker.objects.count() == 1
