"""The submission lifecycle in-process: scope, the sweep of unfinished reports, sealing at rest,
the category table, and what the finished report holds."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from django.utils import timezone
from lxml import etree

from tests import factories
from tests.interop.ncmec_client import file_details_xml, report_xml
from tests.stored import raw_objects
from tipline import crypto, storage
from tipline.cases import categories
from tipline.cases.models import EvidenceFile
from tipline.cases.sealing import report_key
from tipline.cases.states import KeyPurpose
from tipline.cybertipline import actions
from tipline.cybertipline.models import Submission, SubmissionFile
from tipline.espformat import mapping
from tipline.partners.actions import basic_username, credential_create
from tipline.partners.models import ApiCredential

pytestmark = pytest.mark.django_db


def _partner(scopes: tuple[str, ...] = ("cybertipline",)) -> tuple[ApiCredential, dict[str, str]]:
    created = credential_create(actor="test", name="Platform", kind="partner", scopes=list(scopes))
    token = f"{basic_username(created.credential)}:{created.secret}".encode()
    return created.credential, {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(token).decode()}


def _code(response: object) -> str:
    return etree.fromstring(response.content).findtext("responseCode") or ""  # type: ignore[attr-defined]


def _submit(client: Client, auth: dict[str, str], body: bytes) -> int:
    response = client.post("/ispws/submit", body, content_type="text/xml; charset=utf-8", **auth)  # type: ignore[arg-type]
    assert _code(response) == "0", response.content
    return int(etree.fromstring(response.content).findtext("reportId") or "0")


def test_a_credential_without_the_scope_gets_1100(client: Client) -> None:
    credential, auth = _partner()
    credential.scopes = ["match"]
    credential.save(update_fields=["scopes"])
    response = client.get("/ispws/status", **auth)  # type: ignore[arg-type]
    assert response.status_code == 403
    assert _code(response) == "1100"
    assert response["Request-ID"]


def test_a_bearer_token_is_not_a_basic_secret(client: Client) -> None:
    created = credential_create(actor="t", name="P", kind="partner", scopes=["cybertipline"])
    token = f"{basic_username(created.credential)}:{created.token}".encode()
    response = client.get(
        "/ispws/status", HTTP_AUTHORIZATION="Basic " + base64.b64encode(token).decode()
    )
    assert response.status_code == 401


def test_content_is_sealed_at_rest(client: Client) -> None:
    _cred, auth = _partner()
    marker = "https://marker-7f3a.example/secret-page"
    rid = _submit(client, auth, report_xml(urls=(marker,)))
    photo = factories.png_bytes(colour="gold")
    up = client.post("/ispws/upload", {"id": str(rid), "file": _file(photo)}, **auth)  # type: ignore[arg-type]
    assert _code(up) == "0"
    row = Submission.objects.get(pk=rid)
    assert marker.encode() not in bytes(row.document or b"")
    assert not any(photo[:64] in data for data in raw_objects().values())


def _file(data: bytes, name: str = "photo.png") -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/png")


def test_the_sweep_erases_unfinished_reports_on_time(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    _cred, auth = _partner()
    old = _submit(client, auth, report_xml())
    client.post("/ispws/upload", {"id": str(old), "file": _file(factories.png_bytes())}, **auth)  # type: ignore[arg-type]
    recent_change = _submit(client, auth, report_xml())
    young = _submit(client, auth, report_xml())
    now = timezone.now()
    Submission.objects.filter(pk=old).update(
        opened_at=now - timedelta(hours=25), changed_at=now - timedelta(hours=2)
    )
    # Opened long ago but changed 30 minutes ago: kept until an hour after that change.
    Submission.objects.filter(pk=recent_change).update(
        opened_at=now - timedelta(hours=30), changed_at=now - timedelta(minutes=30)
    )
    # Changed long ago but opened 10 hours ago: kept until 24 hours after opening.
    Submission.objects.filter(pk=young).update(
        opened_at=now - timedelta(hours=10), changed_at=now - timedelta(hours=9)
    )
    object_id = SubmissionFile.objects.get(submission_id=old).object_id
    assert storage.read_object(object_id)  # there before the sweep
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.sweep_stale(now=now) == 1
    assert not Submission.objects.filter(pk=old).exists()
    assert not SubmissionFile.objects.filter(object_id=object_id).exists()
    with pytest.raises(storage.StorageError):
        storage.read_object(object_id)
    assert set(Submission.objects.values_list("pk", flat=True)) == {recent_change, young}
    # Past its time but not yet swept: already answered as unknown.
    Submission.objects.filter(pk=young).update(opened_at=now - timedelta(hours=25))
    response = client.post("/ispws/finish", {"id": str(young)}, **auth)  # type: ignore[arg-type]
    assert _code(response) == "3100"


def test_finish_files_a_report_with_the_senders_file_details(client: Client) -> None:
    _cred, auth = _partner()
    rid = _submit(
        client,
        auth,
        report_xml(
            incident_type="Online Enticement of Children for Sexual Acts",
            annotations=("sextortion",),
            reported_screen_name="threatener_1",
            additional_info="Account threatened to share images unless paid.",
        ),
    )
    photo = factories.png_bytes(colour="plum")
    up = client.post("/ispws/upload", {"id": str(rid), "file": _file(photo)}, **auth)  # type: ignore[arg-type]
    file_id = etree.fromstring(up.content).findtext("fileId") or ""
    info = file_details_xml(
        rid, file_id, classification="B2", original_hashes=(("SHA1", "ab" * 20),)
    )
    assert _code(client.post("/ispws/fileinfo", info, content_type="text/xml", **auth)) == "0"  # type: ignore[arg-type]
    assert _code(client.post("/ispws/finish", {"id": str(rid)}, **auth)) == "0"  # type: ignore[arg-type]
    report = Submission.objects.select_related("report").get(pk=rid).report
    assert report is not None
    assert report.category == "sextortion"  # the annotation wins over the incident type
    key = report_key(report.id, KeyPurpose.CONTENT)
    details = crypto.open_json(
        key, report.payload, context=crypto.context("report", report.id, "payload")
    )
    assert details["handles"] == ["threatener_1"]
    assert details["cybertipline"]["report_id"] == rid
    evidence = EvidenceFile.objects.get(report=report)
    meta = crypto.open_json(key, evidence.meta, context=crypto.context("file", evidence.id, "meta"))
    assert meta["sender"]["industry_classification"] == "B2"
    assert meta["sender"]["original_hashes"] == [{"type": "SHA1", "value": "ab" * 20}]
    assert meta["sender"]["file_id"] == file_id
    # The submission keeps no content once finished.
    row = Submission.objects.get(pk=rid)
    assert row.document is None
    assert row.wrapped_key is None
    assert not SubmissionFile.objects.filter(submission=row).exists()


def test_the_category_table_names_only_tipline_categories() -> None:
    assert mapping.categories_named() <= set(categories.CODES)
    table = mapping.mapping()
    assert set(table.outbound) == set(categories.CODES)
    assert len(table.incident_types) == 8


@pytest.mark.parametrize(
    ("incident", "annotations", "category"),
    [
        ("Child Pornography (possession, manufacture, and distribution)", (), "csam"),
        ("Online Enticement of Children for Sexual Acts", (), "luring"),
        ("Online Enticement of Children for Sexual Acts", ("sextortion",), "sextortion"),
        (
            "Child Pornography (possession, manufacture, and distribution)",
            ("csamSolicitation",),
            "luring",
        ),
        ("Child Sex Trafficking", ("spam",), "child_in_danger"),
        ("Misleading Domain Name", ("minorToMinorInteraction",), "other"),
        (
            "Online Enticement of Children for Sexual Acts",
            ("sextortion", "sadisticOnlineExploitation"),
            "child_in_danger",
        ),
    ],
)
def test_category_mapping(incident: str, annotations: tuple[str, ...], category: str) -> None:
    doc = etree.fromstring(report_xml(incident_type=incident, annotations=annotations))
    assert mapping.category_of(doc) == category


def test_the_case_view_shows_the_partner_their_id_and_the_original_xml(client: Client) -> None:
    from tests.console.helpers import signed_in

    _cred, auth = _partner()
    rid = _submit(
        client,
        auth,
        report_xml(
            urls=("https://host.example/a",),
            annotations=("minorToMinorInteraction",),
            additional_info="<script>alert(1)</script> described in words",
        ),
    )
    assert _code(client.post("/ispws/finish", {"id": str(rid)}, **auth)) == "0"  # type: ignore[arg-type]
    report = Submission.objects.get(pk=rid).report
    assert report is not None
    analyst, _user = signed_in("ana")
    page = analyst.get(f"/console/reports/{report.id}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="cybertipline"' in html
    assert "Platform" in html
    assert f">{rid}<" in html
    assert "minorToMinorInteraction" in html
    # The original XML is shown escaped, never as markup.
    assert "&lt;report&gt;" in html or "&lt;?xml" in html
    assert "<script>alert(1)</script>" not in html
    # The panel's parts are not repeated as reporter answers.
    assert ">cybertipline<" not in html


def test_path_like_names_and_oversized_files(client: Client, settings: LazySettings) -> None:
    _cred, auth = _partner()
    rid = _submit(client, auth, report_xml())
    photo = factories.png_bytes(colour="navy")
    up = client.post(
        "/ispws/upload", {"id": str(rid), "file": _file(photo, "../../etc/cron.d/x.png")}, **auth
    )  # type: ignore[arg-type]
    assert _code(up) == "0"
    settings.TIPLINE_MAX_FILE_BYTES = len(photo) - 1
    big = client.post("/ispws/upload", {"id": str(rid), "file": _file(photo)}, **auth)  # type: ignore[arg-type]
    assert _code(big) == "4200"
    assert big.status_code == 400
    two = client.post("/ispws/upload", {"id": str(rid), "file": [_file(b"a"), _file(b"b")]}, **auth)  # type: ignore[arg-type]
    assert _code(two) == "3000"
    form = client.post("/ispws/upload", {"id": str(rid)}, content_type="application/json", **auth)  # type: ignore[arg-type]
    assert _code(form) == "3000"
    settings.TIPLINE_MAX_FILE_BYTES = 20 * 1024 * 1024
    assert _code(client.post("/ispws/finish", {"id": str(rid)}, **auth)) == "0"  # type: ignore[arg-type]
    report = Submission.objects.get(pk=rid).report
    assert report is not None
    key = report_key(report.id, KeyPurpose.CONTENT)
    evidence = EvidenceFile.objects.get(report=report)
    meta = crypto.open_json(key, evidence.meta, context=crypto.context("file", evidence.id, "meta"))
    assert meta["name"] == "x.png"
