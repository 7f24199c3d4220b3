"""Hashing: PDQ conformance with Meta's reference vectors, and hostile or unusual files.

Test images are Meta's PDQ reference photos (/work/shared/data/pdq) or pictures drawn here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from django.conf import LazySettings
from PIL import Image

from tests.pdq_data import pdq_data
from tipline.matching.hashing import FileHashes, hamming, hash_bytes, hash_file

PDQ_DATA = pdq_data()
needs_pdq_data = pytest.mark.skipif(
    not PDQ_DATA.is_dir(), reason=f"PDQ reference images not present at {PDQ_DATA}"
)
# Meta's guidance: an implementation within 10 bits of the reference is correct; <= 31 matches.
MATCH_DISTANCE = 31
# q0003 is a low-quality (nearly featureless) photo; the README says it may differ from the pure
# Python reference. It is 10 bits away with every resampling filter we tried, so allow 10 there.
LOW_QUALITY_ALLOWANCE = {"reg-test-input/labelme-subset/q0003.jpg": 10}


def _tsv(name: str) -> list[list[str]]:
    if not PDQ_DATA.is_dir():
        return []
    with (PDQ_DATA / name).open(newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    return rows[1:]


def _hash_path(relative: str) -> FileHashes:
    return hash_bytes((PDQ_DATA / relative).read_bytes())


# --- conformance ---------------------------------------------------------------------------


@needs_pdq_data
@pytest.mark.parametrize(("relative", "expected"), _tsv("expected-pdq.tsv"))
def test_reference_image_hashes_to_expected_pdq(relative: str, expected: str) -> None:
    hashes = _hash_path(relative)
    assert hashes.kind == "image"
    assert hashes.refused_reason is None
    assert hashes.pdq is not None
    assert len(hashes.pdq) == 64
    assert hamming(hashes.pdq, expected) <= LOW_QUALITY_ALLOWANCE.get(relative, 0)


@needs_pdq_data
@pytest.mark.parametrize(("relative", "expected", "quality"), _tsv("expected-pdq-bridge-mods.tsv"))
def test_bridge_mod_matches_original_and_reference(
    relative: str, expected: str, quality: str
) -> None:
    original = _hash_path("bridge-mods/aaa-orig.jpg").pdq
    hashes = _hash_path(relative)
    assert hashes.pdq is not None
    assert original is not None
    assert hamming(hashes.pdq, original) <= MATCH_DISTANCE
    # The reference tool's own hash: 9 of 12 bit for bit; sharpen-a-little, sharpen-a-lot and
    # shrink-a-little land 2 bits away with every resampling filter tried (well inside Meta's
    # 10-bit "correct implementation" bound).
    assert hamming(hashes.pdq, expected) <= 2
    assert hashes.pdq_quality == int(quality)


@needs_pdq_data
def test_rotated_and_flipped_copies_are_far_apart_so_they_need_dihedral_matching() -> None:
    # Guards the bit order: a reversed or byte-swapped hex would still give a constant distance,
    # but not distance 0 above and > 31 here.
    upright = _hash_path("reg-test-input/dih/bridge-1-original.jpg").pdq
    rotated = _hash_path("reg-test-input/dih/bridge-2-rotate-90.jpg").pdq
    assert upright is not None
    assert rotated is not None
    assert hamming(upright, rotated) > MATCH_DISTANCE


def test_cryptographic_hashes_are_those_of_the_bytes() -> None:
    data = _encode(_photo(), "PNG")
    hashes = hash_bytes(data)
    assert hashes.sha256 == hashlib.sha256(data).hexdigest()
    assert hashes.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert hashes.sha1 == hashlib.sha1(data, usedforsecurity=False).hexdigest()


def test_hash_file_equals_hash_bytes(tmp_path: Path) -> None:
    data = _encode(_photo(), "JPEG")
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    assert hash_file(path) == hash_bytes(data)


def test_hamming() -> None:
    assert hamming("00", "00") == 0
    assert hamming("0f", "f0") == 8
    assert hamming("ff" * 32, "00" * 32) == 256
    with pytest.raises(ValueError, match="different lengths"):
        hamming("00", "000")


# --- pictures drawn here ----------------------------------------------------------------------


def _photo(width: int = 640, height: int = 480) -> Image.Image:
    """A smooth, structured picture (high PDQ quality), deterministic."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    red = 128 + 100 * np.sin(x / 41.0) * np.cos(y / 57.0)
    green = 128 + 90 * np.cos((x + 2 * y) / 73.0)
    blue = 128 + 80 * np.sin((x - y) / 29.0)
    pixels = np.stack([red, green, blue], axis=-1)
    pixels[height // 5 : height // 2, width // 6 : width // 3] = (240, 30, 30)
    pixels[height // 2 : 4 * height // 5, width // 2 : 5 * width // 6] = (20, 20, 200)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **params)
    return out.getvalue()


def _pdq(data: bytes) -> str:
    hashes = hash_bytes(data)
    assert hashes.refused_reason is None, hashes.refused_reason
    assert hashes.pdq is not None
    return hashes.pdq


@pytest.fixture(scope="module")
def upright_pdq() -> str:
    return _pdq(_encode(_photo(), "PNG"))


def test_drawn_photo_hashes_with_high_quality() -> None:
    hashes = hash_bytes(_encode(_photo(), "PNG"))
    assert hashes.kind == "image"
    assert hashes.pdq_quality is not None
    assert hashes.pdq_quality >= 80


def test_exif_rotated_photo_hashes_as_it_is_shown(upright_pdq: str) -> None:
    stored = _photo().transpose(Image.Transpose.ROTATE_90)  # pixels lying on their side
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    data = _encode(stored, "JPEG", quality=95, exif=exif)
    assert hamming(_pdq(data), upright_pdq) <= 8
    # Without the orientation the same pixels would not match: the EXIF tag is what was applied.
    assert hamming(_pdq(_encode(stored, "JPEG", quality=95)), upright_pdq) > MATCH_DISTANCE


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("JPEG", {"quality": 90}),
        ("WEBP", {"quality": 90}),
        ("TIFF", {}),
        ("TIFF", {"compression": "tiff_lzw"}),
        ("BMP", {}),
    ],
)
def test_formats_hash_close_to_the_original(
    upright_pdq: str, fmt: str, params: dict[str, object]
) -> None:
    assert hamming(_pdq(_encode(_photo(), fmt, **params)), upright_pdq) <= 8


def test_palette_image_hashes_as_its_colours() -> None:
    palette = _photo().quantize(colors=64)
    assert palette.mode == "P"
    assert _pdq(_encode(palette, "PNG")) == _pdq(_encode(palette.convert("RGB"), "PNG"))


def test_palette_with_transparency_is_flattened_on_white() -> None:
    rgba = _photo().convert("RGBA")
    rgba.paste((0, 0, 0, 0), (0, 0, 320, 480))  # left half fully transparent (and black)
    on_white = _photo()
    on_white.paste((255, 255, 255), (0, 0, 320, 480))
    palette = rgba.quantize(colors=255, method=Image.Quantize.FASTOCTREE)
    data = _encode(palette, "PNG", transparency=_transparent_index(palette))
    assert Image.open(io.BytesIO(data)).mode == "P"
    # The palette's colours are approximations, so compare with the same palette on white.
    flat = Image.alpha_composite(
        Image.new("RGBA", palette.size, (255, 255, 255, 255)),
        Image.open(io.BytesIO(data)).convert("RGBA"),
    ).convert("RGB")
    assert np.asarray(flat)[0, 0].tolist() == [255, 255, 255]
    assert _pdq(data) == _pdq(_encode(flat, "PNG"))
    assert hamming(_pdq(data), _pdq(_encode(on_white, "PNG"))) <= MATCH_DISTANCE


def _transparent_index(palette: Image.Image) -> int:
    return int(np.asarray(palette)[0, 0])


def test_alpha_is_composited_on_white_not_dropped() -> None:
    rgba = _photo().convert("RGBA")
    alpha = np.full((480, 640), 255, dtype=np.uint8)
    alpha[:, :320] = 0  # left half transparent; its colour values are still the photo's
    rgba.putalpha(Image.fromarray(alpha))
    on_white = _photo()
    on_white.paste((255, 255, 255), (0, 0, 320, 480))
    hashed = _pdq(_encode(rgba, "PNG"))
    assert hashed == _pdq(_encode(on_white, "PNG"))
    assert hamming(hashed, _pdq(_encode(_photo(), "PNG"))) > 8  # alpha was not just dropped


def test_greyscale_with_alpha() -> None:
    la = _photo().convert("LA")
    assert hamming(_pdq(_encode(la, "PNG")), _pdq(_encode(_photo().convert("L"), "PNG"))) == 0


def test_cmyk_jpeg(upright_pdq: str) -> None:
    data = _encode(_photo().convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    assert hamming(_pdq(data), upright_pdq) <= 8


def test_sixteen_bit_greyscale_scales_like_eight_bit() -> None:
    grey8 = np.asarray(_photo().convert("L"), dtype=np.uint16)
    grey16 = Image.fromarray(grey8 * 257)  # 0..255 -> 0..65535
    data = _encode(grey16, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    assert hamming(_pdq(data), _pdq(_encode(_photo().convert("L"), "PNG"))) <= 4
    tiff = _encode(grey16, "TIFF")
    assert hamming(_pdq(tiff), _pdq(_encode(_photo().convert("L"), "PNG"))) <= 4


def test_gif_uses_the_first_frame() -> None:
    first = _photo()
    second = first.transpose(Image.Transpose.ROTATE_180)
    data = _encode(first, "GIF", save_all=True, append_images=[second], duration=100)
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.n_frames == 2
        frame_one = gif.convert("RGB")
        gif.seek(1)
        frame_two = gif.convert("RGB")
    hashed = _pdq(data)
    assert hashed == _pdq(_encode(frame_one, "PNG"))
    assert hamming(hashed, _pdq(_encode(frame_two, "PNG"))) > MATCH_DISTANCE


def test_tiny_image_hashes_with_zero_quality() -> None:
    hashes = hash_bytes(_encode(Image.new("RGB", (1, 1), (10, 20, 30)), "PNG"))
    assert hashes.refused_reason is None
    assert hashes.pdq_quality == 0


# --- hostile and unreadable files -------------------------------------------------------------


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_fifty_thousand_square_png_is_refused_without_decoding() -> None:
    data = _png_claiming(50_000, 50_000)
    assert len(data) < 100
    hashes = hash_bytes(data)
    assert hashes.kind == "image"
    assert hashes.pdq is None
    assert hashes.refused_reason is not None
    assert "too large" in hashes.refused_reason
    assert hashes.sha256 == hashlib.sha256(data).hexdigest()


def test_image_over_our_limit_but_under_pillows_is_refused_with_its_size() -> None:
    # 48 Mpx: over the default 40 Mpx TIPLINE_MAX_IMAGE_PIXELS, under Pillow's own bomb error.
    hashes = hash_bytes(_png_claiming(8000, 6000))
    assert hashes.refused_reason is not None
    assert "8000x6000" in hashes.refused_reason


def test_pixel_limit_comes_from_settings(settings: LazySettings) -> None:
    settings.TIPLINE_MAX_IMAGE_PIXELS = 100 * 100
    assert hash_bytes(_encode(_photo(100, 100), "PNG")).refused_reason is None
    refused = hash_bytes(_encode(_photo(101, 100), "PNG")).refused_reason
    assert refused is not None
    assert "too large" in refused


def test_zero_bytes() -> None:
    hashes = hash_bytes(b"")
    assert hashes.refused_reason == "empty file"
    assert hashes.sha256 == hashlib.sha256(b"").hexdigest()
    assert hashes.pdq is None


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "TIFF"])
def test_truncated_image_is_refused_not_padded(fmt: str) -> None:
    data = _encode(_photo(), fmt)
    truncated = data[: len(data) // 2]
    hashes = hash_bytes(truncated)
    assert hashes.kind == "image"
    assert hashes.pdq is None
    assert hashes.refused_reason is not None
    assert "damaged or truncated" in hashes.refused_reason
    assert hashes.sha256 == hashlib.sha256(truncated).hexdigest()


def test_corrupt_jpeg_header() -> None:
    data = bytearray(_encode(_photo(), "JPEG"))
    data[20:200] = b"\xff" * 180
    hashes = hash_bytes(bytes(data))
    assert hashes.pdq is None
    assert hashes.refused_reason is not None


def test_random_bytes_are_other_and_refused_if_claimed_as_an_image() -> None:
    noise = np.random.default_rng(1).bytes(4096)
    hashes = hash_bytes(noise)
    assert hashes.kind == "other"
    assert hashes.pdq is None
    assert hashes.refused_reason is None
    claimed = hash_bytes(noise, content_type="image/png")
    assert claimed.kind == "image"
    assert claimed.refused_reason is not None
    assert "not an image format we decode" in claimed.refused_reason


def test_image_format_we_do_not_decode_is_refused() -> None:
    # Photoshop files are sniffed as images; Pillow's PSD decoder is not on our list.
    data = _encode(_photo(64, 64), "PNG")
    psd = b"8BPS\x00\x01" + b"\x00" * 6 + data
    hashes = hash_bytes(psd)
    assert hashes.kind == "image"
    assert hashes.refused_reason is not None
    assert "not an image format we decode" in hashes.refused_reason


def test_video_is_recognised_without_pdq() -> None:
    mp4 = struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00isommp41" + b"\x00" * 64
    hashes = hash_bytes(mp4)
    assert hashes.kind == "video"
    assert hashes.pdq is None
    assert hashes.refused_reason is None
    assert hashes.sha1 == hashlib.sha1(mp4, usedforsecurity=False).hexdigest()


def test_text_is_other() -> None:
    hashes = hash_bytes(b"hello\n")
    assert hashes.kind == "other"
    assert hashes.pdq is None
    assert hashes.refused_reason is None
