"""The evidence store on a real S3 server (SeaweedFS, tests/seaweed.py): TIPLINE_STORAGE=s3.

Only ciphertext reaches the bucket, under random names; a report is acknowledged only once its
objects are stored; with the server stopped intake answers 503 and nothing acknowledged is lost;
when the server returns, intake works again in the same process (no restart of Tipline).
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.conftest import use_bucket
from tests.factories import png_bytes
from tests.intake.test_submit import form, receipt_of
from tests.queued import queued
from tests.seaweed import SeaweedS3, SeaweedS3Bucket
from tipline import crypto, storage
from tipline.cases import media_step
from tipline.cases.access import report_by_receipt
from tipline.cases.models import EvidenceFile, Report
from tipline.cases.sealing import report_key
from tipline.cases.states import KeyPurpose
from tipline.cases.tasks import process_media

KEY = re.compile(r"\Aevidence/[0-9a-f]{32}\Z")


def _original(row: EvidenceFile) -> bytes:
    return crypto.open_sealed(
        report_key(row.report_id, KeyPurpose.CONTENT),
        storage.read_object(row.object_id),
        context=crypto.context("file", row.id, "data"),
    )


def _store_matches_rows(s3: SeaweedS3Bucket) -> None:
    """No row without its object, no object without its row."""
    objects = {key.removeprefix("evidence/") for key in s3.object_keys()}
    rows = set(EvidenceFile.objects.values_list("object_id", flat=True))
    assert objects == rows


def test_objects_round_trip_under_random_names(s3_store: SeaweedS3Bucket) -> None:
    object_id = storage.write_object(b"ciphertext bytes")
    assert storage.read_object(object_id) == b"ciphertext bytes"
    (key,) = s3_store.object_keys()
    assert key == f"evidence/{object_id}"
    assert KEY.match(key)
    stored = s3_store.get(key)
    # Nothing but the bytes: a neutral type, no user metadata.
    assert stored["ContentType"] == "application/octet-stream"
    assert stored["Metadata"] == {}
    assert [o.object_id for o in storage.list_objects()] == [object_id]
    storage.delete_object(object_id)
    storage.delete_object(object_id)  # deleting a missing object is no error
    with pytest.raises(storage.StorageError) as missing:
        storage.read_object(object_id)
    assert not isinstance(missing.value, storage.StorageUnavailable)
    assert s3_store.object_keys() == []


def test_restore_puts_an_object_back_under_its_id_and_never_over_one(
    s3_store: SeaweedS3Bucket,
) -> None:
    object_id = storage.write_object(b"first")
    with pytest.raises(storage.StorageError, match="exists"):
        storage.restore_object(object_id, b"second")
    assert storage.read_object(object_id) == b"first"
    storage.delete_object(object_id)
    storage.restore_object(object_id, b"restored")  # `tipline restore` on a fresh bucket
    assert storage.read_object(object_id) == b"restored"
    assert s3_store.object_keys() == [f"evidence/{object_id}"]


@pytest.mark.parametrize(
    "object_id", ["../../etc/passwd", "evidence/../x", "", "A" * 32, "0" * 31, "0" * 32 + "/"]
)
def test_malformed_ids_are_refused_before_reaching_the_bucket(
    s3_store: SeaweedS3Bucket, object_id: str
) -> None:
    with pytest.raises(storage.StorageError):
        storage.read_object(object_id)
    with pytest.raises(storage.StorageError):
        storage.delete_object(object_id)


@pytest.mark.django_db
def test_a_report_with_files_is_stored_on_s3_as_ciphertext(
    client: Client, s3_store: SeaweedS3Bucket
) -> None:
    originals = [png_bytes(colour="red"), png_bytes(colour="blue")]
    files = [SimpleUploadedFile(f"s{i}.png", b, "image/png") for i, b in enumerate(originals)]
    response = client.post("/en/report/cyberstalking/", form(attachments=files))
    assert response.status_code == 200
    report = report_by_receipt(receipt_of(response.content.decode()))
    rows = list(EvidenceFile.objects.filter(report=report))
    assert sorted(_original(row) for row in rows) == sorted(originals)
    for key in s3_store.object_keys():
        assert KEY.match(key)
        body = s3_store.get(key)["Body"].read()
        assert body.startswith(b"TL")  # sealed (crypto header), never the PNG
        assert not any(original in body for original in originals)
    _store_matches_rows(s3_store)

    api = client.post(
        "/api/v1/reports",
        {
            "category": "cyberstalking",
            "what_happened": "Screenshots attached.",
            "attachments": [SimpleUploadedFile("a.png", png_bytes(), "image/png")],
        },
    )
    assert api.status_code == 201
    _store_matches_rows(s3_store)


@pytest.mark.django_db
def test_object_names_cannot_be_chosen_by_reporters(
    client: Client, s3_store: SeaweedS3Bucket
) -> None:
    hostile = ["../../../etc/passwd.png", "evidence/" + "0" * 32, "a%2F..%2Fb.png", "x\x00.png"]
    files = [SimpleUploadedFile(name, png_bytes(colour="green"), "image/png") for name in hostile]
    response = client.post("/en/report/cyberstalking/", form(attachments=files))
    assert response.status_code == 200
    keys = s3_store.object_keys()
    assert len(keys) == EvidenceFile.objects.count() >= 1
    assert all(KEY.match(key) for key in keys)
    assert "evidence/" + "0" * 32 not in keys


@pytest.mark.django_db
def test_the_sweep_lists_and_removes_orphans_in_the_bucket(s3_store: SeaweedS3Bucket) -> None:
    orphan = storage.write_object(b"written, then its transaction failed")
    out = io.StringIO()
    call_command("storage", "sweep", "--grace-minutes", "0", stdout=out)
    assert f"orphan {orphan}" in out.getvalue()
    assert s3_store.object_keys() == [f"evidence/{orphan}"]  # listed, not deleted, without --apply
    call_command("storage", "sweep", "--grace-minutes", "0", "--apply", stdout=io.StringIO())
    assert s3_store.object_keys() == []


def test_objects_of_a_failed_transaction_are_deleted_again(s3_store: SeaweedS3Bucket) -> None:
    class Failed(Exception):
        pass

    def transaction_that_fails() -> None:
        with storage.pending_writes() as pending:
            pending.write(b"one")
            pending.write(b"two")
            raise Failed

    with pytest.raises(Failed):
        transaction_that_fails()
    assert s3_store.object_keys() == []


@pytest.mark.django_db
def test_s3_stopped_during_intake_answers_503_and_loses_nothing(
    client: Client, settings: LazySettings, tmp_path: Path
) -> None:
    server = SeaweedS3(tmp_path / "s3").start()
    try:
        s3 = use_bucket(settings, server)
        before = client.post(
            "/en/report/cyberstalking/",
            form(attachments=SimpleUploadedFile("a.png", png_bytes(colour="red"), "image/png")),
        )
        acknowledged = report_by_receipt(receipt_of(before.content.decode()))

        server.stop()
        token = "stopped-s3-" + "x" * 16
        words = "Il m'envoie des messages chaque nuit depuis un nouveau compte."
        down = client.post(
            "/fr/report/cyberstalking/",
            form(
                submission=token,
                what_happened=words,
                attachments=SimpleUploadedFile("b.png", png_bytes(colour="blue"), "image/png"),
            ),
        )
        assert down.status_code == 503
        assert down["Retry-After"] == "60"
        page = down.content.decode()
        assert "Pas envoyé" in page  # the French page
        assert "Il m&#x27;envoie des messages chaque nuit" in page  # the words are kept
        api = client.post(
            "/api/v1/reports",
            {
                "category": "cyberstalking",
                "what_happened": "Screenshots attached.",
                "attachments": [SimpleUploadedFile("a.png", png_bytes(), "image/png")],
            },
        )
        assert api.status_code == 503
        assert api.json()["error"] == "storage_unavailable"
        assert Report.objects.count() == 1  # nothing half-stored, nothing acknowledged
        with pytest.raises(storage.StorageUnavailable):
            _original(EvidenceFile.objects.get(report=acknowledged))

        server.start()  # the same folder and ports: Tipline is not restarted
        again = client.post(
            "/fr/report/cyberstalking/",
            form(
                submission=token,
                what_happened=words,
                attachments=SimpleUploadedFile("b.png", png_bytes(colour="blue"), "image/png"),
            ),
        )
        assert again.status_code == 200
        report_by_receipt(receipt_of(again.content.decode()))
        assert _original(EvidenceFile.objects.get(report=acknowledged)) == png_bytes(colour="red")
        assert Report.objects.count() == 2
        _store_matches_rows(s3)
    finally:
        server.stop()


def test_start_up_refuses_an_incomplete_s3_configuration(
    settings: LazySettings, tmp_path: Path
) -> None:
    from tipline.ops.keycheck import storage_settings_check

    assert storage_settings_check() == []  # the local default
    settings.TIPLINE_STORAGE = "ftp"
    assert "use 'local' or 's3'" in storage_settings_check()[0].msg
    settings.TIPLINE_STORAGE = "s3"
    settings.TIPLINE_S3_BUCKET = ""
    credentials = tmp_path / "s3.toml"
    credentials.write_text('access_key_id = "AK"\nsecret_access_key = "SK"\n')
    credentials.chmod(0o644)
    settings.TIPLINE_S3_CREDENTIALS_FILE = str(credentials)
    messages = [m.msg for m in storage_settings_check()]
    assert any("TIPLINE_S3_BUCKET" in m for m in messages)
    assert any("chmod 600" in m for m in messages)
    settings.TIPLINE_S3_BUCKET = "evidence"
    credentials.chmod(0o600)
    assert storage_settings_check() == []
    credentials.write_text("secret_access_key = 'SK'\n")
    assert "access_key_id" in storage_settings_check()[0].msg


@pytest.mark.django_db
def test_media_work_waits_for_the_object_store_instead_of_failing(
    settings: LazySettings, tmp_path: Path
) -> None:
    # Regression (benchmarks/fault_cycles.py): media tasks that ran while the store was down
    # failed for good, leaving acknowledged files unhashed and unmatched.
    server = SeaweedS3(tmp_path / "s3").start()
    try:
        use_bucket(settings, server)
        created = factories.report(uploads=[factories.upload()])
        server.stop()

        def later() -> int:
            now = timezone.now()
            return sum(bool(t.run_after and t.run_after > now) for t in queued(process_media))

        waiting = later()
        assert process_media.call(str(created.report.id)) is False  # no exception: it waits
        assert later() == waiting + 1  # and runs again in MEDIA_RETRY
        assert media_step.pending_files(created.report.id)

        server.start()
        # The S3 gateway answers before its volume server does: a run in that moment waits again
        # (as above), so give the store a few runs, as the retries would.
        deadline = time.monotonic() + 60
        while not process_media.call(str(created.report.id)) and time.monotonic() < deadline:
            time.sleep(1)
        assert not media_step.pending_files(created.report.id)
    finally:
        server.stop()
