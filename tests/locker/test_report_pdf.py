"""The court-ready PDF, read back with poppler (pdftotext, pdftoppm) as a reader would."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.locker.test_pattern import incident, item, snapshot_of
from tipline.locker import report_pdf
from tipline.locker.types import Snapshot

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
GENERATED = datetime(2026, 3, 2, 16, 45, 10, tzinfo=UTC)
HINDI = "मुझे जवाब दो"
HOSTILE_TEXT = '<img src="http://127.0.0.1:9/x.png"> </p><style>*{color:red}</style>'


def _snapshot() -> Snapshot:
    start = datetime(2026, 1, 5, 8, 0)
    items = [
        (item(start, "Alex R.", "Why are you not answering?", identifiers=("+44 7700 900123",)), 1),
        (item(start + timedelta(hours=1), "Sam", "Please stop messaging me."), 1),
        (item(start + timedelta(days=1), "Alex R.", HINDI), 1),
        (
            item(
                datetime(2026, 1, 7, 9, 0, tzinfo=timezone(timedelta(hours=1))),
                "alex.r@example.net",
                "I know where you work now.",
                source="eml",
                kind="email",
                identifiers=("alex.r@example.net",),
            ),
            2,
        ),
        (item(start + timedelta(days=3), "Alex R.", "Say hello to your sister for me."), 1),
        (item(start + timedelta(days=4), "Alex R.", "You will regret this, I will hurt you."), 1),
        (item(start + timedelta(days=4, hours=2), "Alex R.", HOSTILE_TEXT), 1),
        (item(None, "Alex R.", "A line without a time.\nIt has two lines."), 1),
    ]
    return snapshot_of(
        items,
        responsible=("Alex R.", "alex.r@example.net"),
        title="Evidence log </title><script>x</script>",
        originals={1: b"whatsapp export", 2: b"From: alex\r\n\r\nbody"},
        incidents=[
            incident(
                "He waited outside my building.",
                "He waited outside my building at 9 pm and followed me to the station.",
            )
        ],
    )


@pytest.fixture(scope="module")
def pdf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(report_pdf.build_pdf(_snapshot(), generated_at=GENERATED))
    return path


@pytest.fixture(scope="module")
def text(pdf_path: Path) -> str:
    out = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, check=True)
    return out.stdout.decode()


def _flat(value: str) -> str:
    return re.sub(r"\s+", " ", value)


def test_summary_names_the_span_counts_accounts_and_markers(text: str) -> None:
    flat = _flat(text)
    assert "Evidence log </title><script>x</script>" in flat  # the title, as text
    assert "Generated at 2026-03-02 16:45:10 UTC" in flat
    assert "Span: 2026-01-05 08:00:00 (phone time, offset unknown) to 2026-01-09 10:00:00" in flat
    assert "Items on the timeline: 8 (1 without a time)" in flat
    assert "By source: eml 1, whatsapp 7" in flat
    assert "Marked as the person responsible, with 7 items" in flat
    assert "Alex R., alex.r@example.net" in flat
    assert "+44 7700 900123" in flat
    assert "Other senders (item counts): • Sam (1)" in flat
    # Which threat rule names it first depends on the rule files (issue 20 rebuilt them).
    assert "First threat: 2026-01-09 08:00:00 (phone time, offset unknown), Alex R. — " in flat
    assert "Words: “will regret this”" in flat
    assert (
        "First mention of where the victim lives, works or is: 2026-01-07 09:00:00 +01:00" in flat
    )
    assert "First mention of the victim's family" in flat


def test_timeline_lists_every_item_with_time_source_sender_and_file(text: str) -> None:
    flat = _flat(text)
    assert "#1 = export-1.txt; #2 = export-2.txt" in flat
    assert (
        "Marker: First mention of where the victim lives, works or is ● 2026-01-07 09:00:00 "
        in flat
    )
    assert (
        "● 2026-01-07 09:00:00 +01:00 · eml · email · alex.r@example.net · #2 — I know where"
        in flat
    )
    assert (
        "2026-01-05 09:00:00 (phone time) · whatsapp · Sam · #1 — Please stop messaging me." in flat
    )
    assert "● no time · whatsapp · Alex R. · #1 — A line without a time. It has two lines." in flat
    assert (
        "● 2026-01-05 08:00:00 (phone time) · whatsapp · Alex R. · +44 7700 900123 · #1 — Why"
        in flat
    )
    assert HINDI in text
    # Markup in a message is printed, never obeyed or fetched.
    assert HOSTILE_TEXT.replace(" ", "") in flat.replace(" ", "")
    # The order: the no-time line is last of the timeline.
    assert flat.index("I will hurt you.") < flat.index("A line without a time.")


def test_incident_log_shows_the_current_text_and_the_history(text: str) -> None:
    flat = _flat(text)
    assert "Incident 1 (edited; 1 earlier version kept)" in flat
    current = flat.index("followed me to the station")
    earlier = flat.index("Earlier version, written 2026-03-01 10:00 UTC")
    assert current < earlier
    assert "He waited outside my building." in flat[earlier:]


def test_manifest_lists_every_file_with_its_hash_and_the_hash_statement(text: str) -> None:
    flat = _flat(text)
    snapshot = _snapshot()
    for record in snapshot.evidence:
        assert f"SHA-256 {record.sha256}" in flat
        assert f"#{record.id} {record.filename}" in flat
    assert "imported 2026-03-01 10:00:00 UTC" in flat
    assert "What they prove: a file whose SHA-256 matches the manifest is exactly the file" in flat
    assert "has not changed since" in flat
    assert "What they do not prove: who wrote the messages" in flat
    assert "that the export itself is complete or authentic" in flat
    assert "clock" in flat


def test_pages_are_numbered(text: str) -> None:
    pages = text.count("\f")
    assert pages >= 2
    assert f"Page 1 of {pages}" in text
    assert f"Page {pages} of {pages}" in text


def test_pdf_pages_render_to_images(pdf_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = ARTIFACTS / "locker-report"
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf_path), str(prefix)], check=True)
    images = sorted(ARTIFACTS.glob("locker-report-*.png"))
    assert len(images) >= 2
    assert all(p.stat().st_size > 5000 for p in images)


def test_the_renderer_is_never_asked_to_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def record(self: object, url: str, headers: object = None) -> object:
        asked.append(url)
        raise ValueError("refused")

    monkeypatch.setattr(report_pdf._NoFetch, "fetch", record)
    pdf = report_pdf.build_pdf(_snapshot(), generated_at=GENERATED)
    assert pdf.startswith(b"%PDF-")
    assert asked == []


def test_the_fetcher_refuses_every_url() -> None:
    for url in ("http://127.0.0.1/", "file:///etc/passwd", "data:text/css,*{}"):
        with pytest.raises(ValueError, match="fetches nothing"):
            report_pdf._NoFetch().fetch(url)


def test_generated_at_must_be_aware_and_an_empty_locker_still_renders() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        report_pdf.build_pdf(_snapshot(), generated_at=datetime(2026, 3, 2))
    empty = report_pdf.build_pdf(snapshot_of([], originals={}), generated_at=GENERATED)
    assert empty.startswith(b"%PDF-")


def test_language_sets_the_document_language_and_nothing_external_is_referenced() -> None:
    from django.template.loader import render_to_string
    from django.utils import translation

    from tipline.locker.pattern import analyse

    snapshot = _snapshot()
    with translation.override("hi"):
        html = render_to_string(
            report_pdf.TEMPLATE, report_pdf.context(snapshot, analyse(snapshot), GENERATED, "hi")
        )
    assert '<html lang="hi">' in html
    css = report_pdf.CSS_FILE.read_text()
    for external in ("url(", "@import", "http:", "https:"):
        assert external not in css
        assert external not in html.replace("http://www.w3.org/2000/svg", "").replace(
            "http://127.0.0.1:9/x.png", ""
        )
    assert "<script>x</script>" not in html  # the hostile title is escaped
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_loading_weasyprint_leaves_truncated_images_refused_process_wide() -> None:
    # Regression: importing WeasyPrint flips Pillow's LOAD_TRUNCATED_IMAGES on for the whole
    # process, and a truncated upload was then accepted by PDQ hashing and intake validation.
    import importlib

    from PIL import ImageFile

    import tipline.locker.report_pdf as report_pdf

    importlib.reload(report_pdf)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
