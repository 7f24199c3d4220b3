import io

import pytest
from django.conf import LazySettings
from PIL import Image

from tests import factories
from tests.queued import queued
from tests.stored import raw_objects
from tipline import crypto, storage
from tipline.cases import actions, selectors
from tipline.cases.access import report_by_receipt
from tipline.cases.models import EvidenceFile, Message, Report, ReportKey
from tipline.cases.sealing import KeyDestroyed, report_key
from tipline.cases.states import KeyPurpose, MessageAuthor, PublicStatus, ReportState
from tipline.cases.tasks import process_media

pytestmark = pytest.mark.django_db


def test_report_is_stored_sealed_and_readable_with_its_key() -> None:
    created = factories.report(text="MARKER-text-1 the person waits outside school")
    row = Report.objects.get(id=created.report.id)
    assert b"MARKER" not in bytes(row.payload)
    assert row.receipt_digest != created.receipt
    assert created.receipt.replace("-", "") not in row.receipt_digest
    assert selectors.report_details(row)["what_happened"].startswith("MARKER-text-1")
    assert row.tier == "P3"
    assert row.state == ReportState.NEW


def test_category_default_sets_tier_and_priority() -> None:
    urgent = factories.report(category="child_in_danger").report
    routine = factories.report(category="other").report
    assert (urgent.tier, routine.tier) == ("P1", "P4")
    assert urgent.priority > routine.priority


def test_contact_details_use_their_own_key() -> None:
    created = factories.report(contact={"contact_email": "me@example.org"})
    report = created.report
    assert b"example.org" not in bytes(report.contact)
    assert selectors.report_contact(report) == {"contact_email": "me@example.org"}
    # Shredding the contact key destroys contact details but keeps the report content.
    ReportKey.objects.filter(report=report, purpose=KeyPurpose.CONTACT).delete()
    with pytest.raises(KeyDestroyed):
        selectors.report_contact(report)
    assert selectors.report_details(report)["what_happened"]


def test_shredding_the_content_key_makes_everything_unrecoverable() -> None:
    created = factories.report(uploads=[factories.upload()])
    actions.message_add(report=created.report, author=MessageAuthor.REPORTER, body="more")
    ReportKey.objects.filter(report=created.report).delete()
    with pytest.raises(KeyDestroyed):
        selectors.report_details(created.report)
    view = selectors.reporter_view(report_by_receipt(created.receipt))
    assert view.messages == ()
    assert view.files == ()
    assert view.status == PublicStatus.RECEIVED


def test_files_are_sealed_at_rest_with_sha256_of_the_original() -> None:
    data = factories.png_bytes()
    created = factories.report(uploads=[factories.upload("../../etc/passwd.png", data)])
    evidence = EvidenceFile.objects.get(report=created.report)
    on_disk = storage.read_object(evidence.object_id)
    assert data not in on_disk
    assert b"PNG" not in on_disk
    summary = selectors.reporter_view(created.report).files[0]
    assert summary.name == "passwd.png"  # the name is kept for display, never used as a path
    import hashlib

    assert summary.sha256 == hashlib.sha256(data).hexdigest()
    assert list(raw_objects()) == [evidence.object_id]


def test_csam_refuses_files_even_if_a_caller_forgets() -> None:
    with pytest.raises(ValueError, match="does not accept files"):
        factories.report(category="csam", uploads=[factories.upload()])


def test_messages_are_sealed_and_ordered() -> None:
    created = factories.report()
    analyst = factories.staff("ana").user
    actions.message_add(
        report=created.report, author=MessageAuthor.HOTLINE, body="Question?", actor=analyst
    )
    actions.message_add(report=created.report, author=MessageAuthor.REPORTER, body="Answer.")
    assert all(b"Question" not in bytes(m.body) for m in Message.objects.all())
    thread = selectors.reporter_view(created.report).messages
    assert [(m.author, m.body) for m in thread] == [
        (MessageAuthor.HOTLINE, "Question?"),
        (MessageAuthor.REPORTER, "Answer."),
    ]


def test_processing_tasks_are_enqueued_with_ids_only() -> None:
    created = factories.report(uploads=[factories.upload()])
    tasks = queued()
    assert {t.queue_name for t in tasks} == {"triage", "default"}
    for task in tasks:
        assert task.args_kwargs == {"args": [str(created.report.id)], "kwargs": {}}


def test_preview_task_strips_metadata_and_gps() -> None:
    jpeg = factories.png_bytes(size=(2000, 1000), gps=True)
    assert b"PhoneMakerMARK" in jpeg
    created = factories.report(uploads=[factories.upload("photo.jpg", jpeg)])
    assert process_media.call(str(created.report.id)) is True
    evidence = EvidenceFile.objects.get(report=created.report)
    key = report_key(created.report.id, KeyPurpose.CONTENT)
    preview = crypto.open_sealed(
        key, storage.read_object(evidence.preview_object_id), context=f"file:{evidence.id}:preview"
    )
    assert b"PhoneMakerMARK" not in preview
    with Image.open(io.BytesIO(preview)) as img:
        assert img.format == "WEBP"
        assert max(img.size) == 1024
        assert not img.getexif()
        assert not {"exif", "xmp", "icc_profile"} & set(img.info)


def test_storage_sweep_removes_only_orphans(settings: LazySettings) -> None:
    from django.core.management import call_command

    created = factories.report(uploads=[factories.upload()])
    kept = EvidenceFile.objects.get(report=created.report).object_id
    orphan = storage.write_object(b"sealed bytes whose row never committed")
    out = io.StringIO()
    call_command("storage", "sweep", "--apply", "--grace-minutes", "0", stdout=out)
    assert f"deleted {orphan}" in out.getvalue()
    assert storage.read_object(kept)
    with pytest.raises(storage.StorageError):
        storage.read_object(orphan)
