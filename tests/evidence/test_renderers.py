"""Renderers (tipline.evidence.renderers) against benign and hostile files, for real.

PDFs are rasterised by the real pdftoppm in the real sandbox; every answer is checked as an
image (decoded, sized, free of metadata), every hostile file gives RenderFailed or a bounded,
harmless rendition -- never an exception of another kind, never a hang.
"""

from __future__ import annotations

import io
import time

import pytest
from django.conf import LazySettings
from PIL import Image, ImageDraw, PngImagePlugin

from tests.evidence import pdfs, videos
from tipline.evidence import renderers
from tipline.evidence.renderers import RenderFailed


def _image(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    return img


# --- PDF -------------------------------------------------------------------------------------


def test_a_pdf_page_is_rendered_at_the_asked_size_with_ink_on_it() -> None:
    data = pdfs.text_pages(["The first page", "The second page"])
    assert renderers.pdf_page_count(data) == 2
    for size in renderers.PDF_SIZES:
        img = _image(renderers.pdf_page(data, page=2, size=size))
        assert max(img.size) == size
        assert img.info == {} or set(img.info) <= {"dpi"}
        # Black text on white: some pixels are dark.
        assert img.convert("L").getextrema()[0] < 64


def test_a_page_past_the_end_or_a_size_not_offered_fails() -> None:
    data = pdfs.text_pages(["Only page"])
    with pytest.raises(RenderFailed):
        renderers.pdf_page(data, page=2, size=1024)
    with pytest.raises(RenderFailed):
        renderers.pdf_page(data, page=1, size=99999)
    with pytest.raises(RenderFailed):
        renderers.pdf_page(data, page=0, size=1024)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-1.4\n",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF",
        b"not a pdf at all, just words",
        bytes(range(256)) * 40,
    ],
    ids=["empty", "header-only", "no-pages", "words", "binary"],
)
def test_malformed_pdfs_fail_cleanly(data: bytes) -> None:
    with pytest.raises(RenderFailed):
        renderers.pdf_page_count(data)
    with pytest.raises(RenderFailed):
        renderers.pdf_page(data, page=1, size=1024)


def test_a_truncated_pdf_fails_or_renders_what_is_there() -> None:
    whole = pdfs.text_pages(["Cut short"])
    for cut in (len(whole) // 3, len(whole) // 2, len(whole) - 30):
        try:
            png = renderers.pdf_page(whole[:cut], page=1, size=1024)
        except RenderFailed:
            continue
        assert max(_image(png).size) == 1024  # poppler rebuilt the xref: still only pixels


def test_a_page_count_bomb_offers_only_the_first_pages() -> None:
    data = pdfs.many_pages(20_000)
    assert renderers.pdf_page_count(data) == renderers.MAX_PDF_PAGES
    assert max(_image(renderers.pdf_page(data, page=3, size=1024)).size) == 1024


def test_a_huge_page_is_drawn_at_the_asked_size_not_its_own() -> None:
    # 200 x 200 inches: at poppler's default 150 dpi that would be 30000 x 30000 pixels.
    data = pdfs.text_pages(["Huge"], media_box="0 0 14400 14400")
    img = _image(renderers.pdf_page(data, page=1, size=1600))
    assert img.size == (1600, 1600)


def test_a_pdf_with_javascript_is_only_pixels() -> None:
    data = pdfs.text_pages(["Has a script"], extra=pdfs.JAVASCRIPT)
    png = renderers.pdf_page(data, page=1, size=1024)
    assert b"JavaScript" not in png
    assert b"app.alert" not in png
    assert max(_image(png).size) == 1024


def test_a_runaway_page_is_killed_at_the_time_limit(settings: LazySettings) -> None:
    settings.TIPLINE_RENDER_TIMEOUT_SECONDS = 1
    data = pdfs.slow_page()  # seven seconds of drawing on this machine without a limit
    started = time.monotonic()
    with pytest.raises(RenderFailed, match="timeout"):
        renderers.pdf_page(data, page=1, size=1024)
    assert time.monotonic() - started < 30  # killed, not left to finish


def test_a_renderer_out_of_memory_fails(settings: LazySettings) -> None:
    settings.TIPLINE_RENDER_MEMORY_BYTES = 16 << 20
    with pytest.raises(RenderFailed):
        renderers.pdf_page(pdfs.text_pages(["Needs memory"]), page=1, size=2400)


# --- text ------------------------------------------------------------------------------------


def test_utf8_text_is_read_as_is() -> None:
    shown = renderers.text_preview("21:04 il a écrit encore — नमस्ते\n".encode())
    assert shown.text == "21:04 il a écrit encore — नमस्ते\n"
    assert shown.encoding.replace("-", "_").lower() in {"utf_8", "utf8"}
    assert shown.line_count == 1
    assert not shown.truncated


FRENCH = "Il m'a écrit à minuit, encore et encore. Ça ne s'arrête pas, même le dimanche."
RUSSIAN = "Он пишет мне каждую ночь и угрожает опубликовать переписку с друзьями."  # noqa: RUF001
JAPANESE = "彼は毎晩新しいアカウントからメッセージを送ってきます。返事をしないと怒ります。"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (FRENCH, "cp1252"),
        (RUSSIAN, "cp1251"),
        ("He keeps writing every night from a new account, says one hour left.", "utf_16"),
        (JAPANESE, "shift_jis"),
    ],
)
def test_odd_encodings_are_detected(text: str, encoding: str) -> None:
    shown = renderers.text_preview(text.encode(encoding))
    assert shown.text.strip() == text


def test_html_and_script_stay_characters_and_controls_are_replaced() -> None:
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>\x1b[31m\x00\u202eevil\n"
    shown = renderers.text_preview(hostile.encode())
    assert "<script>alert(1)</script>" in shown.text  # escaped by the template, not here
    assert "\x1b" not in shown.text
    assert "\x00" not in shown.text
    assert "\u202e" not in shown.text


def test_long_text_is_cut_and_says_so() -> None:
    shown = renderers.text_preview(b"line of a long log\n" * 100_000)
    assert shown.truncated
    assert len(shown.text.encode()) <= renderers.MAX_TEXT_BYTES


def test_undecodable_bytes_still_show_something() -> None:
    shown = renderers.text_preview(b"\xff\xfe\xfd" * 10 + b"\x80abc")
    assert isinstance(shown.text, str)


# --- images ----------------------------------------------------------------------------------


def _photo(size: tuple[int, int]) -> bytes:
    img = Image.new("RGB", size, "white")
    ImageDraw.Draw(img).rectangle((10, 10, size[0] // 2, size[1] // 2), fill="navy")
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "camera owner Jane Doe")
    out = io.BytesIO()
    img.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_image_renditions_zoom_up_to_full_size_without_metadata() -> None:
    data = _photo((3000, 1500))
    assert _image(renderers.redraw(data, max_px=1024)).size == (1024, 512)
    assert _image(renderers.redraw(data, max_px=2048)).size == (2048, 1024)
    full = _image(renderers.redraw(data, max_px=0))
    assert full.size == (3000, 1500)
    assert "Comment" not in full.info
    assert b"Jane Doe" not in renderers.redraw(data, max_px=0)


def test_a_decompression_bomb_is_refused(settings: LazySettings) -> None:
    settings.TIPLINE_MAX_IMAGE_PIXELS = 1_000_000
    with pytest.raises(RenderFailed):
        renderers.redraw(_photo((2000, 2000)), max_px=0)


def test_an_image_that_is_not_an_image_is_refused() -> None:
    with pytest.raises(RenderFailed):
        renderers.redraw(b"GIF89a" + b"\x00" * 20, max_px=1024)


# --- video -----------------------------------------------------------------------------------


def test_a_video_preview_is_silent_small_h264_without_metadata() -> None:
    original = videos.pattern_mp4(seconds=3)
    assert "audio" in videos.probe(original)
    assert "Jane Doe" in videos.probe(original)
    preview = renderers.video_preview(original)
    streams = videos.probe(preview)
    assert "codec_type=video" in streams
    assert "codec_name=h264" in streams
    assert "audio" not in streams
    assert "width=480" in streams
    assert "Jane Doe" not in streams
    assert b"Jane Doe" not in preview
    assert b"GPS" not in preview


@pytest.mark.parametrize(
    "data",
    [b"hello, this is not a video", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64],
    ids=["text", "header-only"],
)
def test_a_video_that_is_not_a_video_fails(data: bytes) -> None:
    with pytest.raises(RenderFailed):
        renderers.video_preview(data)


def test_a_truncated_video_fails_or_gives_a_clean_clip() -> None:
    whole = videos.pattern_mp4(seconds=2)
    try:
        preview = renderers.video_preview(whole[: len(whole) // 2])
    except RenderFailed:
        return
    assert "audio" not in videos.probe(preview)


def test_utf16_with_a_lone_surrogate_shows_a_replacement_not_a_surrogate() -> None:
    data = b"\xff\xfe" + "he wrote ".encode("utf-16-le") + b"\x00\xd8" + "again".encode("utf-16-le")
    shown = renderers.text_preview(data)
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in shown.text)
    shown.text.encode("utf-8")  # always encodable for the page
