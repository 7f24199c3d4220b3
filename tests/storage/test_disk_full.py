"""A full disk (issue 19): intake answers 503 with a translated page, the API a documented error;
nothing acknowledged is lost, and service resumes when space returns, without a restart.

The disk is real: a tmpfs of a few MB mounted for the test (the tests run as root, in CI too),
filled to the last byte by a file that is then deleted. Where mounting is not permitted (not
root, or a container without CAP_SYS_ADMIN), these tests are skipped and say why: nothing else
makes write(2) fail with ENOSPC on the paths Tipline writes without mocking the file system.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import LazySettings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import png_bytes
from tests.intake.test_submit import form, receipt_of
from tests.live import LiveServer
from tipline import crypto, storage
from tipline.cases.access import report_by_receipt
from tipline.cases.models import EvidenceFile, Report
from tipline.cases.sealing import report_key
from tipline.cases.states import KeyPurpose

# A full disk is the local store's failure: these tests use it on either profile of `make test`
# (the scale-out run's environment names an S3 bucket, whose outage tests/storage/test_s3.py and
# benchmarks/fault_cycles.py play by stopping the S3 server).
LOCAL_STORE = {"TIPLINE_STORAGE": "local"}


@pytest.fixture(autouse=True)
def _local_store(settings: LazySettings) -> None:
    settings.TIPLINE_STORAGE = "local"


def _mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}): needs root")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill(disk: Path) -> Path:
    """Write a file until the disk has not one byte left; return it (delete it to free space)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        chunk = 1 << 20
        while chunk:
            try:
                os.write(fd, b"\0" * chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                chunk //= 2
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "small-disk"
    _mount_tmpfs(disk, "4m")
    yield disk
    _umount(disk)


def _original(row: EvidenceFile) -> bytes:
    return crypto.open_sealed(
        report_key(row.report_id, KeyPurpose.CONTENT),
        storage.read_object(row.object_id),
        context=crypto.context("file", row.id, "data"),
    )


def _with_file(colour: str, **fields: object) -> dict[str, object]:
    return form(
        attachments=SimpleUploadedFile("s.png", png_bytes(colour=colour), "image/png"), **fields
    )


@pytest.mark.django_db
def test_a_full_evidence_disk_answers_503_and_loses_nothing(
    client: Client, settings: LazySettings, small_disk: Path
) -> None:
    settings.EVIDENCE_DIR = small_disk / "evidence"
    first = client.post("/en/report/cyberstalking/", _with_file("red"))
    acknowledged = report_by_receipt(receipt_of(first.content.decode()))

    filler = fill(small_disk)
    token = "disk-full-token-" + "y" * 16
    words = "वह हर रात नए खाते से संदेश भेजता है।"
    down = client.post(
        "/hi/report/cyberstalking/", _with_file("blue", submission=token, what_happened=words)
    )
    assert down.status_code == 503
    assert down["Retry-After"] == "60"
    page = down.content.decode()
    assert "नहीं भेजा गया" in page  # the Hindi page
    assert words in page  # the words are kept
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
    assert Report.objects.count() == 1
    assert EvidenceFile.objects.count() == 1
    # The failed writes left no partial files behind.
    leftovers = [p.name for p in (small_disk / "evidence").rglob("*") if p.is_file()]
    assert leftovers == [EvidenceFile.objects.get().object_id]
    assert _original(EvidenceFile.objects.get(report=acknowledged)) == png_bytes(colour="red")

    filler.unlink()  # space returns
    again = client.post(
        "/hi/report/cyberstalking/", _with_file("blue", submission=token, what_happened=words)
    )
    assert again.status_code == 200
    receipt_of(again.content.decode())
    assert Report.objects.count() == 2
    assert {_original(row) for row in EvidenceFile.objects.all()} == {
        png_bytes(colour="red"),
        png_bytes(colour="blue"),
    }


RECEIPT = re.compile(r'id="receipt"[^>]*>([0-9A-Z-]{19})<')


def _report_with_image(server: LiveServer, lang: str, name: str, colour: str) -> httpx.Response:
    """The public form, in ``lang``, with one PNG of ``colour``."""
    return httpx.post(
        f"{server.url}/{lang}/report/cyberstalking/",
        data=form(),
        files=[("attachments", (name, png_bytes(colour=colour), "image/png"))],
        timeout=60,
    )


def test_a_full_data_directory_under_a_running_server(tmp_path: Path) -> None:
    """The whole data directory (SQLite database, evidence, keys) on a small disk that fills up
    under `tipline serve`: 503s while it is full, every acknowledged report still opens, and the
    same server takes reports again once space returns."""
    server = LiveServer(root=tmp_path / "server", extra_env=LOCAL_STORE)
    _mount_tmpfs(server.data_dir, "48m")
    try:
        server.setup()
        server.start(workers=1)
        receipts = []
        web = _report_with_image(server, "en", "a.png", "red")
        assert web.status_code == 200
        receipts.append(RECEIPT.search(web.text).group(1))  # type: ignore[union-attr]
        api_body = {"category": "cyberstalking", "what_happened": "Messages every night."}
        first = httpx.post(server.url + "/api/v1/reports", json=api_body, timeout=60)
        assert first.status_code == 201
        receipts.append(first.json()["receipt"])

        filler = fill(server.data_dir)
        # SQLite lives in the data directory and fills with it; PostgreSQL (scripts/with-postgres)
        # is on another disk, so a report without files is still stored and acknowledged.
        database_full = server.database_url is None
        down_api = httpx.post(server.url + "/api/v1/reports", json=api_body, timeout=60)
        if database_full:
            assert down_api.status_code == 503, down_api.text
            assert down_api.json()["error"] == "storage_unavailable"
        else:
            assert down_api.status_code == 201
            receipts.append(down_api.json()["receipt"])
        down_web = _report_with_image(server, "fr", "b.png", "blue")
        assert down_web.status_code == 503
        assert "Pas envoyé" in down_web.text
        multipart = httpx.post(
            server.url + "/api/v1/reports",
            data={"category": "cyberstalking", "what_happened": "Screenshots attached."},
            files=[("attachments", ("c.png", png_bytes(colour="green"), "image/png"))],
            timeout=60,
        )
        assert multipart.status_code == 503
        assert multipart.json()["error"] == "storage_unavailable"
        # A receipt look-up writes too (its throttle counts failures with equal timing for
        # every look-up), and the throttle fails closed: a clear 503, not an unthrottled read.
        status = httpx.post(
            server.url + "/api/v1/followup/status", json={"receipt": receipts[0]}, timeout=60
        )
        assert status.status_code == (503 if database_full else 200)

        filler.unlink()
        again = httpx.post(server.url + "/api/v1/reports", json=api_body, timeout=60)
        assert again.status_code == 201
        receipts.append(again.json()["receipt"])
        web_again = _report_with_image(server, "en", "b.png", "blue")
        assert web_again.status_code == 200
        for receipt in receipts:
            status = httpx.post(
                server.url + "/api/v1/followup/status", json={"receipt": receipt}, timeout=60
            )
            assert status.status_code == 200
    finally:
        server.stop()
        _umount(server.data_dir)
