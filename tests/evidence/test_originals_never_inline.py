"""No route serves an original upload inline (issue 14, item 6).

Whatever the validator lets through, the original bytes never reach a browser as a page or an
image: the console shows previews re-drawn from pixels, and the only answers that carry
originals are downloads (``Content-Disposition: attachment``: the locker's ZIP export, and
referral packages, whose members are encrypted to the agency). Every route the project serves
is walked -- taken from the URL resolver, so a new route is covered without editing this file --
with GET and POST, as an analyst, an admin and an auditor, as a reporter holding the receipt
(web and API) and as a victim holding a locker session. A marker that exists only in the
originals' bytes (a PNG text chunk, a text file, a PDF) must appear in no other answer -- except
a text file's words in the console's text viewer, escaped inside its ``<pre>`` (issue 15), and
an administrator's audited download of an original, as an attachment.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile

import pytest
from django.http import HttpResponseBase
from django.test import Client
from django.urls import get_resolver
from PIL import Image, PngImagePlugin

from tests import factories
from tests.console.helpers import signed_in
from tests.locker.locker_client import create, upload
from tests.test_access_matrix import _routes
from tipline.evidence.validate import validate_upload

pytestmark = pytest.mark.django_db

MARK = "ORIGINAL-BYTES-ONLY-5f1e9c"
# Routes that end the session they are called with go last.
LAST = ("sign-out", "lock/")


def _marked_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", MARK)
    out = io.BytesIO()
    Image.new("RGB", (120, 90), "teal").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _originals() -> dict[str, bytes]:
    return {
        "shot.png": _marked_png(),
        "chat.txt": f"21:04 he wrote again {MARK}\n".encode(),
        "letter.pdf": f"%PDF-1.4\n% {MARK}\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".encode(),
    }


def _body(response: HttpResponseBase) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return bytes(response.content)  # type: ignore[attr-defined]


def _paths(**ids: str) -> list[str]:
    routes = sorted(set(_routes(get_resolver())), key=lambda r: any(x in r for x in LAST))
    paths = []
    for route in routes:
        path = "/" + route.replace("<lang>", "en")
        path = path.replace("<slug:code>", "cyberstalking").replace("<slug:slug>", "what-to-gather")
        # Metrics: an alert id and a CSV section (none of them carries a file).
        path = re.sub(r"<int:\w+>", "1", path).replace("<slug:section>", "by_day")
        path = path.replace("<path:rest>", "status")  # the CyberTipline-compatible API
        path = path.replace("<str:name>", "shared-bank")  # a hash bank's changes (issue 17)
        path = path.replace("<str:report_id>", str(uuid.uuid4()))  # a partner report (17)
        for name, value in ids.items():
            path = path.replace(f"<uuid:{name}>", value)
        if "<uuid:" not in path:
            assert "<" not in path, f"fill in {path}"
            paths.append(path)
    return paths


def _shown_as_text(response: HttpResponseBase) -> bool:
    """The text viewer (issue 15) shows a text file's words: escaped, only inside its <pre>."""
    if not response.get("Content-Type", "").startswith("text/html"):
        return False
    body = _body(response).decode()
    outside = re.sub(r'<pre class="evidence-text[^"]*"[^>]*>[^<]*</pre>', "", body)
    return MARK not in outside


def _walk(client: Client, paths: list[str], form: dict[str, str]) -> list[str]:
    """Every path, GET and POST; the answers that carried the marker (only attachments may)."""
    carried = []
    for path in paths:
        for method in ("GET", "POST"):
            if method == "GET":
                response = client.get(path)
            elif path.startswith("/api/"):
                response = client.post(path, json.dumps(form), content_type="application/json")
            else:
                response = client.post(path, form)
            if MARK.encode() not in _body(response) or _shown_as_text(response):
                continue
            disposition = response.get("Content-Disposition", "")
            assert disposition.startswith("attachment"), f"{method} {path} served an original"
            carried.append(f"{method} {path}")
    return carried


def test_no_route_serves_a_report_original_inline() -> None:
    originals = _originals()
    created = factories.report(
        uploads=[validate_upload(name, data) for name, data in originals.items()]
    )
    factories.run_tasks(created.report)  # previews made, as the media worker would
    file_ids = [str(f.id) for f in created.report.files.all()]
    assert len(file_ids) == 3
    paths = _paths(report_id=str(created.report.id), file_id=file_ids[0])
    paths += [p for i in file_ids[1:] for p in _paths(file_id=i) if p.startswith("/console/files/")]
    # Reporter: the receipt on the web follow-up and in the API.
    assert _walk(Client(), paths, {"receipt": created.receipt}) == []
    for role in ("analyst", "auditor"):
        client, _user = signed_in(role, role)
        assert _walk(client, paths, {"body": "Thank you."}) == []
    # An administrator may download originals: as attachments, by POST, and nothing else.
    client, _user = signed_in("admin", "admin")
    carried = _walk(client, paths, {"body": "Thank you."})
    assert carried
    assert all(c.startswith("POST /console/files/") and c.endswith("/original") for c in carried)
    # The walk did reach the files: the case page lists them and the preview is an image
    # re-drawn from pixels (no text chunk survives).
    client, _user = signed_in("reader", "admin")
    case = client.get(f"/console/reports/{created.report.id}/").content.decode()
    assert all(name in case for name in originals)
    previews = [client.get(f"/console/files/{i}/preview") for i in file_ids]
    assert [p.status_code for p in previews].count(200) == 1  # the image; text and PDF have none
    preview = next(p for p in previews if p.status_code == 200)
    assert preview["Content-Type"] == "image/webp"
    assert preview["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(preview.content)) as img:
        assert img.format == "WEBP"
        assert not {"exif", "xmp", "icc_profile"} & set(img.info)


def test_only_the_locker_download_carries_an_original() -> None:
    client = Client()
    _phrase, token = create(client)
    original = _marked_png()
    imported = upload(client, token, original, "shot.png")
    assert imported.status_code == 200
    page = client.post("/en/locker/mine/", {"session": token}).content.decode()
    assert re.search(r"shot\.png", page)
    # The victim's own download holds the original (compressed inside the ZIP) as an attachment.
    export = client.post("/en/locker/export/zip/", {"session": token})
    assert export["Content-Disposition"].startswith("attachment")
    with zipfile.ZipFile(io.BytesIO(export.content)) as bundle:
        assert any(bundle.read(name) == original for name in bundle.namelist())
    assert _walk(client, _paths(), {"session": token}) == []
