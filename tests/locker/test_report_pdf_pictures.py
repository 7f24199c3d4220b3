"""The PDF shows screenshots as pictures and incident times in the locker's zone (issue 13).

Before issue 13 a screenshot appeared only as a line of the hash manifest, and an incident
written as 23:00 in Delhi was printed "2024-03-14 17:30:00 +00:00".
"""

from __future__ import annotations

import hashlib
import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from tipline.locker import report_pdf
from tipline.locker.types import (
    EvidenceRecord,
    Incident,
    IncidentVersion,
    Item,
    Snapshot,
    TimelineEntry,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
GENERATED = datetime(2024, 3, 16, 9, 0, tzinfo=UTC)
DELHI = ZoneInfo("Asia/Kolkata")
GPS_MARK = b"GPS-IFD-SECRET-PLACE"


def screenshot_png() -> bytes:
    """A tall phone-sized chat screenshot (drawn bubbles and words), with EXIF and GPS data."""
    image = Image.new("RGB", (1080, 2400), (236, 229, 221))
    draw = ImageDraw.Draw(image)
    for row in range(9):
        top = 160 + row * 240
        left = 60 if row % 2 else 420
        draw.rounded_rectangle((left, top, left + 600, top + 170), 30, fill=(255, 255, 255))
        draw.text((left + 30, top + 60), f"Message {row + 1}: I'm outside", fill=(20, 20, 20))
    exif = Image.Exif()
    exif[0x9003] = "2024:03:14 23:05:00"  # DateTimeOriginal
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (28.0, 36.0, 50.0)}  # GPS: where the victim stood
    exif[0x010E] = GPS_MARK.decode()  # ImageDescription: a marker we can look for in bytes
    out = io.BytesIO()
    image.save(out, format="PNG", exif=exif)
    return out.getvalue()


def _snapshot(png: bytes) -> Snapshot:
    record = EvidenceRecord(
        id=3,
        filename="Screenshot_20240314-230500.png",
        format="screenshot",
        sha256=hashlib.sha256(png).hexdigest(),
        size=len(png),
        imported_at=datetime(2024, 3, 15, 8, 0, tzinfo=UTC),
        item_count=1,
    )
    shot = Item("screenshot", "image", datetime(2024, 3, 14, 23, 5), "", "", "")
    version = IncidentVersion(
        occurred_at=datetime(2024, 3, 14, 23, 0, tzinfo=DELHI),
        platform="Outside my flat",
        what_happened="He stood outside my building and sent the message in the screenshot.",
        accounts="Alex",
        impact="",
        evidence_ids=(3,),
        written_at=datetime(2024, 3, 15, 9, 30, tzinfo=DELHI),
    )
    return Snapshot(
        title="Evidence log",
        created_at=datetime(2024, 3, 1, 8, 0, tzinfo=UTC),
        evidence=[record],
        entries=[TimelineEntry(shot, 3)],
        incidents=[Incident(id=1, versions=(version,))],
        originals={3: png},
        time_zone="Asia/Kolkata",
    )


@pytest.fixture(scope="module")
def png() -> bytes:
    return screenshot_png()


@pytest.fixture(scope="module")
def pdf(png: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pictures") / "report.pdf"
    path.write_bytes(report_pdf.build_pdf(_snapshot(png), generated_at=GENERATED))
    return path


def _text(path: Path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


def test_the_screenshot_is_a_picture_in_the_pdf_with_its_hash_line(pdf: Path, png: bytes) -> None:
    listed = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, check=True)
    rows = [line.split() for line in listed.stdout.decode().splitlines()[2:]]
    assert rows, "no image in the PDF"
    width, height = int(rows[0][3]), int(rows[0][4])
    assert max(width, height) <= report_pdf.PICTURE_PIXELS  # scaled down from 1080 x 2400
    assert width / height == pytest.approx(1080 / 2400, rel=0.01)
    text = _text(pdf)
    assert "Screenshots" in text
    assert f"SHA-256 {hashlib.sha256(png).hexdigest()}" in text
    assert "#3 Screenshot_20240314-230500.png" in text


def test_the_picture_carries_no_metadata(pdf: Path, tmp_path: Path) -> None:
    data = pdf.read_bytes()
    assert GPS_MARK not in data
    assert b"PhoneMaker" not in data
    subprocess.run(["pdfimages", "-all", str(pdf), str(tmp_path / "img")], check=True)
    [extracted] = sorted(tmp_path.glob("img-*"))
    with Image.open(extracted) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "icc_profile" not in image.info
        assert "exif" not in image.info


def test_incident_times_are_local_with_the_zone_name_not_utc_offsets(pdf: Path) -> None:
    text = _text(pdf)
    assert "When: 2024-03-14 23:00 IST (Asia/Kolkata)" in text
    assert "Current text, written 2024-03-15 09:30 IST (Asia/Kolkata)" in text
    assert "Times are shown in Asia/Kolkata" in text
    assert "17:30" not in text  # the UTC reading of 23:00 in Delhi
    incident_part = text[text.index("Incident log") :]
    assert "+00:00" not in incident_part.split("Evidence manifest")[0]


def test_a_broken_or_hostile_image_is_left_out_not_a_crash() -> None:
    assert report_pdf.picture_of(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40) is None
    assert report_pdf.picture_of(b"not an image") is None


def test_pages_render_for_a_look(pdf: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = ARTIFACTS / "locker-report-pictures"
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(prefix)], check=True)
    pages = sorted(ARTIFACTS.glob("locker-report-pictures-*.png"))
    assert pages
    assert all(page.stat().st_size > 5000 for page in pages)
