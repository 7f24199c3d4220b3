"""Polyglots are refused wherever the second file hides (issue 14, item 6); ordinary files pass.

Every hostile file is built here from Pillow output, ``zipfile`` and bytes. The first tests are
the attacks the independent probe found accepted: a PNG carrying a ZIP in an ancillary chunk
(``unzip -l`` lists an .html and an .exe), JPEG comments holding ``<img onerror>`` or
``<body onload>``, and an SVG that starts with a comment (it came in as plain text).
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from tests.pdq_data import pdq_data
from tipline.evidence.polyglot import MAX_TEXT_BYTES, hidden_content
from tipline.evidence.validate import UploadRejected, validate_upload

HIDDEN = "hidden inside"
NOT_ACCEPTED = "not a file type we accept"
XSS = [b"<img src=x onerror=alert(1)>", b"<body onload=alert(1)>"]


# --- builders ------------------------------------------------------------------------------------


def archive() -> bytes:
    """A real ZIP with a web page and a program in it (deflated, so no markup shows in it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("index.html", "<html><script>alert(1)</script></html>" * 4)
        bundle.writestr("setup.exe", b"MZ\x90\x00" + bytes(400))
    return out.getvalue()


def image(fmt: str, size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, format=fmt, **save)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with(*chunks: bytes) -> bytes:
    """A valid PNG with extra chunks inserted just before IEND (CRCs correct: Pillow verifies)."""
    png = image("PNG")
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + b"".join(chunks) + png[iend:]


def jpeg_with(marker: int, body: bytes) -> bytes:
    """A valid JPEG with one more segment right after SOI."""
    jpeg = image("JPEG")
    return jpeg[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def gif_with_comment(text: bytes) -> bytes:
    gif = image("GIF")
    blocks = b"".join(
        bytes([len(text[i : i + 255])]) + text[i : i + 255] for i in range(0, len(text), 255)
    )
    return gif[:-1] + b"\x21\xfe" + blocks + b"\x00" + gif[-1:]


def webp_with(kind: bytes, body: bytes) -> bytes:
    webp = image("WEBP")
    chunk = kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)
    data = webp + chunk
    return b"RIFF" + struct.pack("<I", len(data) - 8) + data[8:]  # the RIFF size grows with it


XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 6.0.0">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
    b' xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:CreatorTool="Camera 2.1"'
    b' xmp:CreateDate="2026-03-12T21:04:00+01:00">'
    b'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">Message on my phone, 21:04'
    b"</rdf:li></rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>"
    b'<?xpacket end="w"?>'
)


def refused(name: str, data: bytes, message: str = HIDDEN) -> None:
    with pytest.raises(UploadRejected, match=message) as caught:
        validate_upload(name, data)
    assert name in str(caught.value)


# --- the attacks found accepted -------------------------------------------------------------------


@pytest.mark.parametrize("kind", [b"zpKg", b"tEXt", b"iTXt", b"prVw"])
def test_png_carrying_a_zip_in_an_ancillary_chunk_is_refused(kind: bytes) -> None:
    prefixes = {b"tEXt": b"Comment\x00", b"iTXt": b"Comment\x00\x00\x00\x00\x00"}
    prefix = prefixes.get(kind, b"")  # a text chunk's keyword and fields, then the archive
    poly = png_with(png_chunk(kind, prefix + archive()))
    # It really is both: Pillow opens the picture and zipfile (like `unzip -l`) lists the files.
    Image.open(io.BytesIO(poly)).verify()
    assert sorted(zipfile.ZipFile(io.BytesIO(poly)).namelist()) == ["index.html", "setup.exe"]
    refused("poly.png", poly)


@pytest.mark.parametrize("markup", XSS)
def test_jpeg_whose_comment_holds_markup_is_refused(markup: bytes) -> None:
    poly = image("JPEG", comment=markup)
    assert Image.open(io.BytesIO(poly)).info["comment"] == markup
    refused("poly.jpg", poly)


@pytest.mark.parametrize(
    "svg",
    [
        b'<!-- drawing --><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
        b'\xef\xbb\xbf\n  <?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b'<!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg"/>',
        b'<svg:svg xmlns:svg="http://www.w3.org/2000/svg"><svg:script>1</svg:script></svg:svg>',
        b"<a href=x>click</a>",
        b"\t<p>page</p>",
    ],
)
def test_svg_and_html_documents_are_not_plain_text(svg: bytes) -> None:
    refused("drawing.svg", svg, NOT_ACCEPTED)


# --- every other place a second file can hide ---------------------------------------------------


@pytest.mark.parametrize("markup", [*XSS, b"<script>alert(1)</script>", b"<a href=javascript:x>"])
@pytest.mark.parametrize("kind", [b"tEXt", b"zTXt", b"iTXt"])
def test_png_text_chunks_holding_markup_are_refused(kind: bytes, markup: bytes) -> None:
    if kind == b"tEXt":
        body = b"Comment\x00" + markup
    elif kind == b"zTXt":
        body = b"Comment\x00\x00" + zlib.compress(markup)  # compressed: only a viewer sees it
    else:
        body = b"Comment\x00\x01\x00en\x00\x00" + zlib.compress(markup)
    refused("text.png", png_with(png_chunk(kind, body)))


def test_png_text_bomb_is_refused_without_inflating_it_all() -> None:
    bomb = zlib.compress(b"a" * (MAX_TEXT_BYTES + 1), 9)
    assert len(bomb) < 10_000
    data = png_with(png_chunk(b"zTXt", b"Comment\x00\x00" + bomb))
    assert hidden_content("image/png", data) == "oversized metadata text"
    refused("bomb.png", data)


@pytest.mark.parametrize(
    "tail",
    [
        b"PK\x03\x04zipped-archive-data",
        archive() + png_chunk(b"IEND", b""),  # a second IEND after the archive fooled rfind()
        b"\x00",
    ],
)
def test_png_with_anything_after_iend_is_refused(tail: bytes) -> None:
    refused("tail.png", image("PNG") + tail)


@pytest.mark.parametrize("marker", [0xFE, 0xEF, 0xE1, 0xE2])
def test_jpeg_segments_holding_an_archive_are_refused(marker: int) -> None:
    refused("zip.jpg", jpeg_with(marker, b"Exif\x00\x00" + archive()))


@pytest.mark.parametrize(
    "markup",
    [
        *XSS,
        b'<img alt="<" onerror=alert(1)>',  # a quoted "<" must not end the tag for us
        b"<svg/onload=alert(1)>",
        b'<x tabindex=1 autofocus onfocus="alert(1)">',
        b"<iframe src=javascript:alert(1)>",
    ],
)
def test_jpeg_app_segments_and_exif_holding_markup_are_refused(markup: bytes) -> None:
    refused("app15.jpg", jpeg_with(0xEF, b"ANY\x00" + markup))
    exif = Image.Exif()
    exif[0x010E] = markup.decode()  # ImageDescription, inside the binary EXIF block
    refused("exif.jpg", image("JPEG", exif=exif.tobytes()))


def test_jpeg_xmp_holding_html_is_refused() -> None:
    xmp = XMP.replace(b"Message on my phone", b"<b>Message</b>")
    refused("xmp.jpg", image("JPEG", xmp=xmp))


@pytest.mark.parametrize(
    "tail",
    [archive(), b"Rar!\x1a\x07\x01\x00" + bytes(40), b"7z\xbc\xaf\x27\x1c" + bytes(40)],
)
def test_archive_after_the_jpeg_end_is_refused(tail: bytes) -> None:
    refused("tail.jpg", image("JPEG") + tail)


def test_pdf_header_inside_an_image_is_refused() -> None:
    refused("pdf.jpg", image("JPEG", comment=b"%PDF-1.7\n1 0 obj<<>>endobj"))


@pytest.mark.parametrize("text", [b"<img src=x onerror=alert(1)>", b"<scr" + b"ipt>1</script>"])
def test_gif_comment_holding_markup_is_refused(text: bytes) -> None:
    refused("comment.gif", gif_with_comment(text))


def test_gif_comment_split_across_sub_blocks_is_still_refused() -> None:
    # 254 bytes of filler put "<i" at the end of the first sub-block and "mg ..." in the next:
    # the raw bytes hold no tag, but a viewer joins the blocks and shows one.
    text = b"x" * 253 + b"<img src=x>"
    assert b"<img" not in gif_with_comment(text)
    refused("split.gif", gif_with_comment(text))


def test_gif_with_an_archive_after_its_trailer_is_refused() -> None:
    refused("tail.gif", image("GIF") + archive())


def test_webp_xmp_holding_markup_and_data_after_riff_are_refused() -> None:
    refused("xmp.webp", webp_with(b"XMP ", b"<x:xmpmeta><body onload=alert(1)></x:xmpmeta>"))
    refused("zip.webp", webp_with(b"ZZZZ", archive()))
    refused("tail.webp", image("WEBP") + b"trailing bytes")


def test_pdf_carrying_a_zip_is_refused() -> None:
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    refused("letter.pdf", pdf + archive())


def test_text_that_a_pdf_reader_opens_is_refused() -> None:
    refused("notes.txt", b"notes\n%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", NOT_ACCEPTED)


def test_a_decoy_zip_header_does_not_hide_a_real_one_inside_it() -> None:
    real = archive()
    decoy = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(16) + b"\x05\x00\x00\x00\x01"
    assert hidden_content("image/jpeg", image("JPEG") + decoy + real[: real.index(b"PK\x01\x02")])


# --- what must still pass -------------------------------------------------------------------------


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model 7 <Pro>"  # angle brackets alone are not markup
    exif[0x010E] = "Screenshot of the messages, 12 March"
    exif[0x8825] = {1: "N", 2: (45.0, 30.0, 0.0), 3: "W", 4: (73.0, 35.0, 0.0)}
    return exif.tobytes()


def _png_ordinary() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "Screenshot tool 3.2")
    info.add_text("Comment", "Sent to me on 12 March, 21:04; he wrote <3 and more", zip=True)
    info.add_itxt("Description", "Capture d\u2019écran — message reçu", lang="fr", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    return image("PNG", (200, 150), pnginfo=info, icc_profile=SRGB, exif=_exif())


ORDINARY = {
    "photo.jpg": lambda: image(
        "JPEG",
        (320, 240),
        exif=_exif(),
        icc_profile=SRGB,
        xmp=XMP,
        comment=b"CREATOR: gd-jpeg v1.0 (using IJG JPEG v62), quality = 90",
    ),
    "progressive.jpg": lambda: image("JPEG", (320, 240), progressive=True, optimize=True),
    # A motion photo: the phone appends an MP4 after the JPEG's end marker.
    "motion.jpg": lambda: (
        image("JPEG", (320, 240), exif=_exif())
        + b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        + random.Random(7).randbytes(50_000)  # noqa: S311 - stands for compressed video
    ),
    "screen.png": _png_ordinary,
    "anim.gif": lambda: _animated_gif(),
    "sticker.webp": lambda: image("WEBP", (200, 150), exif=_exif(), icc_profile=SRGB, xmp=XMP),
    "chat.txt": lambda: b"12/03/2026, 21:04 - Alex: look <img src=x onerror=alert(1)>\n",
    "irc.txt": lambda: b"<alice> hi\n<bob> stop writing to me\n",
    "letter.pdf": lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
}


def _animated_gif() -> bytes:
    frames = [Image.new("P", (80, 60), colour) for colour in (1, 2, 3)]
    out = io.BytesIO()
    frames[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        loop=0,
        duration=200,
        comment=b"made with a phone app",
    )
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(ORDINARY))
def test_ordinary_files_with_metadata_are_accepted(name: str) -> None:
    data = ORDINARY[name]()
    assert validate_upload(name, data).size == len(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_noise_images_are_accepted(fmt: str) -> None:
    """Compressed noise is as close to random bytes as image data gets: no chance matches."""
    rng = random.Random(fmt)  # noqa: S311 - reproducible test data, not a secret
    for _ in range(6):
        pixels = Image.frombytes("RGB", (400, 300), rng.randbytes(400 * 300 * 3))
        out = io.BytesIO()
        pixels.save(out, format=fmt, **({"exif": _exif()} if fmt != "GIF" else {}))
        validate_upload("noise", out.getvalue())


def _reference_photos() -> list[Path]:
    folder = pdq_data()
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in {".jpg", ".png"})


@pytest.mark.skipif(not pdq_data().is_dir(), reason="PDQ reference photos not on this machine")
def test_every_reference_photo_is_accepted() -> None:
    photos = _reference_photos()
    assert len(photos) >= 20
    refused = []
    for photo in photos:
        try:
            validate_upload(photo.name, photo.read_bytes())
        except UploadRejected as exc:
            refused.append(str(exc))
    assert refused == []
