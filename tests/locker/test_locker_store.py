"""Imports, the incident log, the timeline and exports, through the web pages."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile

import pytest
from django.conf import LazySettings
from django.test import Client

from tests.locker.locker_client import WHATSAPP, create, post, upload
from tests.locker.parsers.conftest import fixture
from tipline.locker.models import EvidenceFile, Incident, IncidentVersion

pytestmark = pytest.mark.django_db


def test_import_is_idempotent_and_lists_the_file(client: Client) -> None:
    _phrase, token = create(client)
    first = upload(client, token, WHATSAPP, "WhatsApp Chat with Alex.txt")
    assert first.status_code == 200
    html = first.content.decode()
    assert "was imported: 3 items" in html
    assert hashlib.sha256(WHATSAPP).hexdigest() in html
    again = upload(client, token, WHATSAPP, "renamed.txt")
    assert again.status_code == 200
    assert "already in your locker" in again.content.decode()
    assert EvidenceFile.objects.count() == 1
    # Another locker imports the same bytes on its own: digests are keyed per locker.
    _phrase2, other = create(client)
    assert "was imported" in upload(client, other, WHATSAPP).content.decode()
    digests = set(EvidenceFile.objects.values_list("idempotency_digest", flat=True))
    assert len(digests) == 2


def test_an_unrecognised_file_is_refused_and_nothing_is_kept(client: Client) -> None:
    _phrase, token = create(client)
    for data, name in [
        (b"%PDF-1.7 not an export", "x.pdf"),
        (b"\x00\x01\x02garbage" * 100, "chat.txt"),
        (b"", "empty.txt"),
        (b"PK\x03\x04" + b"\x00" * 50, "broken.zip"),
        (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><smses>&b;</smses>', "sms.xml"),
        (b"[" * 100_000, "deep.json"),
    ]:
        answer = upload(client, token, data, name)
        assert answer.status_code == 400, name
        assert "Nothing from it was kept" in answer.content.decode() or "required" in (
            answer.content.decode()
        ), name
    assert not EvidenceFile.objects.exists()


def test_an_oversized_upload_is_refused_before_it_is_kept(
    client: Client, settings: LazySettings
) -> None:
    settings.TIPLINE_LOCKER_MAX_IMPORT_BYTES = 10_000
    _phrase, token = create(client)
    answer = upload(client, token, WHATSAPP * 1000)
    assert answer.status_code == 413
    assert "larger than" in answer.content.decode()
    assert not EvidenceFile.objects.exists()


def test_every_fixture_format_imports(client: Client) -> None:
    _phrase, token = create(client)
    for name in [
        "whatsapp_android.txt",
        "whatsapp_ios.txt",
        "WhatsApp Chat - Sam Carter.zip",
        "harassment.eml",
        "telegram_chat.json",
        "instagram_message_1.json",
        "sms-20240316080000.xml",
        "screenshot.png",
    ]:
        answer = upload(client, token, fixture(name), name)
        assert answer.status_code == 200, (name, answer.content.decode()[-1500:])
        assert "was imported" in answer.content.decode(), name
    timeline = post(client, "timeline/", token)
    assert timeline.status_code == 200
    html = timeline.content.decode()
    assert "<svg" in html
    assert "When it got worse" in html


def _incident(client: Client, token: str, **fields: str) -> object:
    data = {
        "occurred_at": "2026-03-14 21:30",
        "platform": "Instagram",
        "what_happened": "He posted my address in a comment.",
        "accounts": "@watcher_77",
        "impact": "I stayed at a friend's house.",
        **fields,
    }
    return post(client, "incidents/save/", token, **data)


def test_an_edit_adds_a_version_and_keeps_the_original(client: Client) -> None:
    _phrase, token = create(client)
    assert _incident(client, token).status_code == 200  # type: ignore[attr-defined]
    incident = Incident.objects.get()
    form = post(client, "incidents/", token, edit=str(incident.id))
    assert "He posted my address in a comment." in form.content.decode()
    edited = _incident(
        client, token, incident=str(incident.id), what_happened="He posted my home address twice."
    )
    html = edited.content.decode()  # type: ignore[attr-defined]
    assert "He posted my home address twice." in html
    assert "2 versions" in html
    assert "He posted my address in a comment." in html
    assert IncidentVersion.objects.filter(incident=incident).count() == 2
    assert Incident.objects.count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"what_happened": ""},
        {"what_happened": "x" * 20_001},
        {"platform": "p" * 201},
        {"occurred_at": "next blursday"},
        {"incident": "-1"},
        {"incident": "not-a-number"},
        {"evidence": "99999"},
    ],
)
def test_hostile_incident_input_is_refused(client: Client, fields: dict[str, str]) -> None:
    _phrase, token = create(client)
    upload(client, token, WHATSAPP)  # so the form offers evidence to choose from
    answer = _incident(client, token, **fields)
    assert answer.status_code == 400  # type: ignore[attr-defined]
    assert not Incident.objects.exists()


def test_another_lockers_incident_cannot_be_edited(client: Client) -> None:
    _phrase, mine = create(client)
    _phrase2, theirs = create(Client())
    _incident(client, theirs)
    foreign = Incident.objects.get()
    assert post(client, "incidents/", mine, edit=str(foreign.id)).status_code == 404
    answer = _incident(client, mine, incident=str(foreign.id), what_happened="overwrite")
    assert answer.status_code == 404  # type: ignore[attr-defined]
    assert IncidentVersion.objects.filter(incident=foreign).count() == 1


def test_marking_the_person_responsible_filters_the_timeline(client: Client) -> None:
    _phrase, token = create(client)
    upload(client, token, WHATSAPP)
    marked = post(client, "timeline/responsible/", token, responsible="Alex")
    assert marked.status_code == 200
    html = post(client, "timeline/", token, only="responsible").content.decode()
    assert "I will wait outside" in html
    assert "please stop writing" not in html
    assert "from-responsible" in html
    bogus = post(client, "timeline/responsible/", token, responsible="<script>nobody</script>")
    assert bogus.status_code == 400


def test_exports_are_attachments_not_stored(client: Client) -> None:
    _phrase, token = create(client)
    upload(client, token, WHATSAPP, "chat.txt")
    _incident(client, token)
    pdf = post(client, "export/pdf/", token)
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert pdf["Cache-Control"] == "no-store"
    assert pdf.content.startswith(b"%PDF")
    bundle = post(client, "export/zip/", token)
    assert bundle["Content-Disposition"].startswith("attachment;")
    assert bundle["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        names = archive.namelist()
        manifest = archive.read("manifest.sha256").decode()
        assert hashlib.sha256(WHATSAPP).hexdigest() in manifest
        for line in manifest.splitlines():
            digest, name = re.split(r"\s+\*?", line, maxsplit=1)
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
    assert any(name.endswith("chat.txt") for name in names)


def test_storage_sweep_keeps_locker_objects(client: Client) -> None:
    from django.core.management import call_command

    from tipline import storage

    _phrase, token = create(client)
    upload(client, token, WHATSAPP)
    row = EvidenceFile.objects.get()
    call_command("storage", "sweep", "--apply", "--grace-minutes", "-1", stdout=io.StringIO())
    assert storage.read_object(row.object_id)
    assert storage.read_object(row.items_object_id)
