"""Hostile and malformed uploads are refused with a message naming the file."""

import io
import zipfile

import pytest
from django.conf import LazySettings
from PIL import Image

from tests.factories import png_bytes
from tipline.evidence.validate import UploadRejected, clean_filename, validate_upload


def test_accepts_a_screenshot_and_hashes_the_original_bytes() -> None:
    data = png_bytes()
    upload = validate_upload("shot.png", data)
    assert upload.content_type == "image/png"
    import hashlib

    assert upload.sha256 == hashlib.sha256(data).hexdigest()


def test_accepts_plain_text_and_pdf() -> None:
    assert validate_upload("chat.txt", "Il a écrit à 22 h.\n".encode()).content_type == "text/plain"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert validate_upload("letter.pdf", pdf).content_type == "application/pdf"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.png", b"", "empty"),
        ("program.png", b"MZ\x90\x00" + b"\x00" * 200, "not a file type we accept"),
        ("archive.jpg", b"PK\x03\x04" + b"\x00" * 200, "not a file type we accept"),
        ("page.txt", b"\x00\x01\x02binary", "not a file type we accept"),
        ("broken.png", png_bytes()[:60], "damaged"),
        ("page.html", b"<html><script>alert(1)</script></html>", "not a file type"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "not a file type"),
    ],
)
def test_refused_files_get_a_clear_message(name: str, data: bytes, message: str) -> None:
    with pytest.raises(UploadRejected, match=message):
        validate_upload(name, data)


def test_decompression_bomb_is_refused_before_decoding() -> None:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG")  # 400 Mpx in a small file
    assert len(out.getvalue()) < 2_000_000
    with pytest.raises(UploadRejected, match="too many pixels"):
        validate_upload("bomb.png", out.getvalue())


@pytest.mark.parametrize(
    "suffix", [b"<html><script>alert(1)</script>", b"PK\x03\x04zipped-archive-data"]
)
def test_polyglot_png_is_refused(suffix: bytes) -> None:
    with pytest.raises(UploadRejected, match="hidden inside"):
        validate_upload("poly.png", png_bytes() + suffix)


def test_polyglot_jpeg_with_appended_archive_is_refused() -> None:
    jpeg = png_bytes(gps=True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("page.html", "<p>hi</p>")
    with pytest.raises(UploadRejected, match="hidden inside"):
        validate_upload("poly.jpg", jpeg + archive.getvalue())
    # Four signature bytes followed by zeros are no archive any reader opens (and such chance
    # runs occur in large photos): tests/evidence/test_polyglots.py has the full set.
    assert validate_upload("photo.jpg", jpeg + b"PK\x03\x04" + b"\x00" * 40)


def test_pdf_with_embedded_script_markup_is_refused() -> None:
    with pytest.raises(UploadRejected, match="hidden inside"):
        validate_upload("x.pdf", b"%PDF-1.4\n<script>alert(1)</script>\n%%EOF")


def test_oversized_file_is_refused(settings: LazySettings) -> None:
    settings.TIPLINE_MAX_FILE_BYTES = 1000
    with pytest.raises(UploadRejected, match="larger than"):
        validate_upload("big.txt", b"a" * 1001)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\shot.png", "shot.png"),
        ("evil\x00name\x1b[31m.png", "evilname[31m.png"),
        ("", "file"),
        ("a" * 500, "a" * 200),
    ],
)
def test_filenames_are_display_names_only(given: str, expected: str) -> None:
    assert clean_filename(given) == expected
