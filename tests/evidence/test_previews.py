"""Previews: lossy WebP re-drawn from pixels; older PNG previews still served as what they are."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests import factories
from tests.console.helpers import signed_in
from tests.pdq_data import pdq_data
from tipline import crypto, storage
from tipline.cases.models import EvidenceFile
from tipline.cases.sealing import report_key
from tipline.cases.states import KeyPurpose
from tipline.cases.tasks import process_media
from tipline.evidence.previews import PREVIEW_MAX_PX, make_preview, media_type

PHOTO = pdq_data() / "bridge-mods" / "aaa-orig.jpg"


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.skipif(not PHOTO.is_file(), reason="PDQ reference photos not found")
def test_a_photo_preview_is_small_webp_without_metadata() -> None:
    data = PHOTO.read_bytes()
    preview = make_preview(data)
    with Image.open(io.BytesIO(preview)) as img:
        assert img.format == "WEBP"
        assert max(img.size) == min(PREVIEW_MAX_PX, max(Image.open(PHOTO).size))
        assert not img.getexif()
        assert not {"exif", "xmp", "icc_profile"} & set(img.info)
        pixels = img.convert("RGB")
    # The point of lossy previews: far fewer bytes than the same pixels as PNG.
    assert len(preview) * 3 < len(_png(pixels))


@pytest.mark.parametrize(
    ("size", "mode"), [((1, 1), "RGB"), ((4000, 3), "RGBA"), ((3, 4000), "P"), ((300, 200), "L")]
)
def test_odd_shapes_and_modes_make_a_preview(size: tuple[int, int], mode: str) -> None:
    preview = make_preview(_png(Image.new(mode, size)))
    with Image.open(io.BytesIO(preview)) as img:
        assert img.format == "WEBP"
        assert max(img.size) <= PREVIEW_MAX_PX
        assert min(img.size) >= 1


def test_media_type_tells_webp_from_png() -> None:
    assert media_type(make_preview(factories.png_bytes())) == "image/webp"
    assert media_type(factories.png_bytes()) == "image/png"
    assert media_type(b"RIFF\0\0\0\0WAVEfmt ") == "image/png"  # RIFF, but not WebP
    assert media_type(b"") == "image/png"


@pytest.mark.django_db
def test_a_preview_made_before_webp_is_served_as_png() -> None:
    created = factories.report(uploads=[factories.upload("photo.png")])
    assert process_media.call(str(created.report.id)) is True
    evidence = EvidenceFile.objects.get(report=created.report)
    key = report_key(created.report.id, KeyPurpose.CONTENT)
    old = factories.png_bytes(size=(32, 24))
    evidence.preview_object_id = storage.write_object(
        crypto.seal(key, old, context=crypto.context("file", evidence.id, "preview"))
    )
    evidence.save(update_fields=["preview_object_id"])
    client, _ = signed_in("ana")
    response = client.get(f"/console/files/{evidence.id}/preview")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="preview.png"'
    assert response.content == old
