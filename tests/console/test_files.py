"""The console's evidence views (console/files.py): read a PDF and a text file, zoom an image,
take an original -- all audited, all blurred until revealed, no original in a browser.

Real parts throughout: files go through intake's validator, the media task makes the stored
preview, PDF pages are drawn by poppler in the sandbox, and each rendition is decoded back.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re

import pytest
from django.conf import LazySettings
from django.test import Client
from PIL import Image, ImageDraw

from tests import factories
from tests.console.helpers import signed_in
from tests.evidence import pdfs, videos
from tipline.audit.models import AuditEntry
from tipline.cases.file_views import file_info
from tipline.cases.models import EvidenceFile
from tipline.console import audit_words
from tipline.evidence.validate import ValidatedUpload
from tipline.matching.models import BankEntry, FileMatch, HashBank, HashKind

pytestmark = pytest.mark.django_db

CHAT = "21:04 <b>he</b> wrote again <script>alert('x')</script> — « encore »\n22:10 new account\n"


def _photo(size: tuple[int, int] = (3000, 1800)) -> bytes:
    img = Image.new("RGB", size, "white")
    ImageDraw.Draw(img).ellipse((100, 100, size[0] - 100, size[1] - 100), fill="teal")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _case(*uploads: tuple[str, bytes]) -> dict[str, EvidenceFile]:
    created = factories.report(uploads=[factories.upload(name, data) for name, data in uploads])
    factories.run_tasks(created.report)
    files = {}
    for evidence in created.report.files.all():
        for name, data in uploads:
            if factories.upload(name, data).sha256 == _sha256(evidence):
                files[name] = evidence
    return files


def _sha256(evidence: EvidenceFile) -> str:
    return file_info(evidence).sha256


def _embedded(page: str) -> Image.Image:
    found = re.search(r'id="evidence-image" src="data:image/(?:png|webp);base64,([^"]+)"', page)
    assert found, "no embedded rendition"
    return Image.open(io.BytesIO(base64.b64decode(found.group(1))))


def test_an_analyst_reads_a_pdf_page_by_page_blurred_then_revealed_and_zoomed() -> None:
    files = _case(("letter.pdf", pdfs.text_pages(["He wrote first", "Then he wrote again"])))
    pdf = files["letter.pdf"]
    client, _ = signed_in("ana")
    page = client.get(f"/console/files/{pdf.id}/").content.decode()
    assert 'class="evidence-preview" id="evidence-image"' in page  # blurred
    assert "Page 1 of 2" in page
    assert max(_embedded(page).size) == 1024
    assert 'data-action="reveal"' in page
    second = client.get(f"/console/files/{pdf.id}/?page=2&size=1024").content.decode()
    assert "Page 2 of 2" in second
    revealed = client.post(
        f"/console/files/{pdf.id}/reveal", {"in": "viewer", "page": "2", "size": "2400"}
    ).content.decode()
    assert 'class="evidence-preview revealed"' in revealed
    assert max(_embedded(revealed).size) == 2400
    actions = list(
        AuditEntry.objects.filter(target_id=str(pdf.id)).values_list("action", flat=True)
    )
    assert "file.reveal" in actions
    assert actions.count("file.preview") >= 4  # page counts and pages, each recorded


def test_an_analyst_reads_a_text_file_as_escaped_characters() -> None:
    files = _case(("chat.txt", CHAT.encode()))
    text = files["chat.txt"]
    client, _ = signed_in("ana")
    page = client.get(f"/console/files/{text.id}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "&lt;b&gt;he&lt;/b&gt;" in page
    assert 'aria-hidden="true"' in page  # blurred text is hidden from screen readers too
    assert re.search(r'id="text-encoding">utf_8<', page)
    revealed = client.post(f"/console/files/{text.id}/reveal", {"in": "viewer"}).content.decode()
    assert 'class="evidence-text revealed"' in revealed
    read = AuditEntry.objects.filter(action="file.text", target_id=str(text.id))
    assert read.count() == 2
    assert "read the text of file" in audit_words.describe(read.first())  # type: ignore[arg-type]


def test_an_image_zooms_up_to_full_resolution() -> None:
    files = _case(("photo.png", _photo()))
    image = files["photo.png"]
    client, _ = signed_in("ana")
    sizes = {}
    for size in ("1024", "2048", "0"):
        page = client.post(
            f"/console/files/{image.id}/reveal", {"in": "viewer", "size": size}
        ).content.decode()
        assert 'class="evidence-preview revealed"' in page
        sizes[size] = _embedded(page).size
    assert sizes == {"1024": (1024, 614), "2048": (2048, 1229), "0": (3000, 1800)}
    # The case card's thumbnail comes from the stored preview; a size not offered is a 404.
    assert client.get(f"/console/files/{image.id}/preview?size=2048").status_code == 200
    assert client.get(f"/console/files/{image.id}/preview?size=777").status_code == 404
    assert client.get(f"/console/files/{image.id}/?size=abc").status_code == 404
    assert client.get(f"/console/files/{image.id}/?page=-1").status_code == 404


def test_the_case_page_shows_a_pdf_thumbnail_and_links_the_viewers() -> None:
    files = _case(
        ("letter.pdf", pdfs.text_pages(["A letter"])),
        ("chat.txt", CHAT.encode()),
        ("photo.png", _photo((400, 300))),
    )
    client, _ = signed_in("ana")
    report_id = files["letter.pdf"].report_id
    case = client.get(f"/console/reports/{report_id}/").content.decode()
    pdf_id = files["letter.pdf"].id
    assert f'src="/console/files/{pdf_id}/preview?page=1"' in case
    assert f'href="/console/files/{files["chat.txt"].id}/"' in case
    assert case.count('data-action="reveal"') == 2  # the image and the PDF; text in its viewer
    thumbnail = client.get(f"/console/files/{pdf_id}/preview?page=1")
    assert thumbnail["Content-Type"] == "image/png"
    assert max(Image.open(io.BytesIO(thumbnail.content)).size) == 1024
    revealed = client.post(f"/console/files/{pdf_id}/reveal").content.decode()
    assert revealed.count("evidence-preview revealed") == 1


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
        pdfs.text_pages(["Cut"])[:300],
    ],
    ids=["no-pages", "truncated"],
)
def test_a_broken_pdf_says_it_could_not_be_rendered(data: bytes) -> None:
    files = _case(("broken.pdf", data))
    client, _ = signed_in("ana")
    page = client.get(f"/console/files/{files['broken.pdf'].id}/")
    assert page.status_code == 200
    assert 'id="render-failed"' in page.content.decode()
    assert "could not be rendered" in page.content.decode()
    assert client.get(f"/console/files/{files['broken.pdf'].id}/preview").status_code == 404


def test_a_runaway_renderer_is_killed_and_the_page_says_so(settings: LazySettings) -> None:
    settings.TIPLINE_RENDER_TIMEOUT_SECONDS = 1
    files = _case(("slow.pdf", pdfs.slow_page()))
    client, _ = signed_in("ana")
    page = client.get(f"/console/files/{files['slow.pdf'].id}/").content.decode()
    assert "could not be rendered" in page
    assert "evidence-image" not in page


def test_a_page_count_bomb_is_read_in_its_first_pages() -> None:
    files = _case(("many.pdf", pdfs.many_pages(20_000)))
    client, _ = signed_in("ana")
    page = client.get(f"/console/files/{files['many.pdf'].id}/?page=500").content.decode()
    assert "Page 500 of 500" in page
    assert client.get(f"/console/files/{files['many.pdf'].id}/?page=501").status_code == 404


def test_a_supervisor_downloads_an_original_as_an_audited_attachment() -> None:
    original = pdfs.text_pages(["Original"])
    files = _case(("letter.pdf", original))
    pdf = files["letter.pdf"]
    client, _ = signed_in("sup", "supervisor")
    response = client.post(f"/console/files/{pdf.id}/original")
    assert response.status_code == 200
    assert response.content == original
    assert response["Content-Type"] == "application/octet-stream"
    assert re.fullmatch(
        r'attachment; filename="evidence-[0-9a-f]{16}\.pdf"', response["Content-Disposition"]
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.get(action="file.original", target_id=str(pdf.id))
    assert entry.actor == "sup"
    assert "downloaded the original of file" in audit_words.describe(entry)
    # The download's form is on the case page and the viewer for a supervisor only.
    viewer = client.get(f"/console/files/{pdf.id}/").content.decode()
    assert f'action="/console/files/{pdf.id}/original"' in viewer


@pytest.mark.parametrize("role", ["analyst", "auditor"])
def test_other_roles_get_the_404_of_a_missing_file(role: str) -> None:
    files = _case(("letter.pdf", pdfs.text_pages(["Original"])))
    client, _ = signed_in(role, role)
    refused = client.post(f"/console/files/{files['letter.pdf'].id}/original")
    missing = client.post("/console/files/00000000-0000-4000-8000-000000000000/original")
    assert refused.status_code == missing.status_code == 404
    strip = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub(b"", refused.content) == strip.sub(b"", missing.content)
    assert not AuditEntry.objects.filter(action="file.original").exists()


def _links(page: str) -> list[str]:
    return re.findall(r'(?:href|src|action|data|poster)="([^"]*)"', page)


@pytest.mark.parametrize("role", ["analyst", "supervisor"])
def test_no_console_page_links_or_embeds_an_original(role: str) -> None:
    files = _case(
        ("letter.pdf", pdfs.text_pages(["A letter"])),
        ("chat.txt", CHAT.encode()),
        ("photo.png", _photo((400, 300))),
    )
    client: Client
    client, _ = signed_in(role, role)
    report_id = next(iter(files.values())).report_id
    pages = [client.get(f"/console/reports/{report_id}/").content.decode()]
    for evidence in files.values():
        pages.append(client.get(f"/console/files/{evidence.id}/").content.decode())
        pages.append(
            client.post(f"/console/files/{evidence.id}/reveal", {"in": "viewer"}).content.decode()
        )
        pages.append(client.post(f"/console/files/{evidence.id}/reveal").content.decode())
    pages.append(client.get("/console/queue/").content.decode())
    for page in pages:
        for link in _links(page):
            if "/original" in link:
                # Only as the target of the download form, for a role that may export.
                assert role == "supervisor"
                assert re.search(rf'<form method="post" action="{re.escape(link)}"', page), link
            assert not link.startswith(("blob:", "file:"))
            if link.startswith("data:"):
                assert link.startswith(("data:image/png;base64,", "data:image/webp;base64,"))


def test_a_video_plays_as_a_silent_blurred_preview_on_request() -> None:
    # Intake accepts no video; a file added otherwise (the API, an import) still gets a view.
    data = videos.pattern_mp4(seconds=2)
    upload = ValidatedUpload(
        name="clip.mp4",
        content_type="video/mp4",
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    created = factories.report(uploads=[upload])
    video = created.report.files.get()
    client, _ = signed_in("ana")
    case = client.get(f"/console/reports/{created.report.id}/").content.decode()
    assert f'href="/console/files/{video.id}/"' in case
    page = client.get(f"/console/files/{video.id}/")
    text = page.content.decode()
    assert re.search(
        r'<video class="evidence-preview" id="evidence-video" src="[^"]+" controls muted '
        r'preload="none"',
        text,
    )
    assert "autoplay" not in text
    assert "media-src 'self'" in page["Content-Security-Policy"]
    # Opening the page decrypted nothing; pressing play does, and is recorded.
    assert not AuditEntry.objects.filter(action="file.preview", target_id=str(video.id)).exists()
    clip = client.get(f"/console/files/{video.id}/video")
    assert clip["Content-Type"] == "video/mp4"
    assert clip["X-Content-Type-Options"] == "nosniff"
    assert "audio" not in videos.probe(clip.content)
    assert AuditEntry.objects.filter(action="file.preview", target_id=str(video.id)).exists()
    revealed = client.post(f"/console/files/{video.id}/reveal", {"in": "viewer"}).content.decode()
    assert 'class="evidence-preview revealed" id="evidence-video"' in revealed


def test_known_material_is_not_drawn_in_the_viewer_until_revealed() -> None:
    files = _case(("photo.png", _photo((400, 300))))
    image = files["photo.png"]
    bank = HashBank.objects.create(name="test-bank", default_classification="baseline")
    entry = BankEntry.objects.create(bank=bank, kind=HashKind.SHA256, value=_sha256(image))
    FileMatch.objects.create(evidence=image, entry=entry, distance=0)
    client, _ = signed_in("ana")
    before = AuditEntry.objects.filter(action="file.preview").count()
    page = client.get(f"/console/files/{image.id}/").content.decode()
    assert "Known material" in page
    assert "evidence-image" not in page
    assert AuditEntry.objects.filter(action="file.preview").count() == before  # nothing opened
    revealed = client.post(f"/console/files/{image.id}/reveal", {"in": "viewer"}).content.decode()
    assert 'class="evidence-preview revealed" id="evidence-image"' in revealed


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=501",
        "page=99999999999999999999999",
        "page=1e3",
        "page=%00",
        "page=%ED%A0%80",  # a lone surrogate, percent-encoded
        "size=-1",
        "size=777",
        "size=0",  # full size is for images only; a PDF page has no natural size
        "size=1024abc",
        "size=" + "9" * 400,
    ],
)
def test_hostile_page_and_size_values_are_a_404(query: str) -> None:
    files = _case(("letter.pdf", pdfs.text_pages(["A letter"])))
    pdf = files["letter.pdf"]
    client, _ = signed_in("ana")
    assert client.get(f"/console/files/{pdf.id}/?{query}").status_code == 404
    assert client.get(f"/console/files/{pdf.id}/preview?{query}").status_code == 404
    fields = dict(pair.split("=", 1) for pair in [query])
    revealed = client.post(f"/console/files/{pdf.id}/reveal", {"in": "viewer", **fields})
    assert revealed.status_code == 404
