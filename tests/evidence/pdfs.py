"""Small PDFs written by hand for the renderer tests: benign pages and hostile structures.

Written byte by byte (objects, a cross-reference table, a trailer) so each hostile property is
exactly what the test names, with no library smoothing it over.
"""

from __future__ import annotations

import zlib


def build(objects: list[bytes]) -> bytes:
    """A PDF whose object 1 is the catalog; ``objects[i]`` is object ``i + 1``."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def _stream(content: bytes, *, compress: bool = False) -> bytes:
    if compress:
        packed = zlib.compress(content, 9)
        return (
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed)
            + packed
            + (b"\nendstream")
        )
    return b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"


def text_pages(lines: list[str], *, media_box: str = "0 0 612 792", extra: bytes = b"") -> bytes:
    """One page per line of text, in Helvetica, large enough to read in a rendition."""
    count = len(lines)
    # 1 catalog, 2 pages, 3 font, then a page and its content stream per line.
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R" + extra + b" >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, line in enumerate(lines):
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        content = f"BT /F1 36 Tf 60 600 Td ({escaped}) Tj ET".encode("latin-1")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [" + media_box.encode() + b"] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(_stream(content))
    return build(objects)


def many_pages(count: int) -> bytes:
    """``count`` empty pages, each its own object (a page-count bomb: ~100 bytes a page)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(count))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"
    return build(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
            *([page] * count),
        ]
    )


def slow_page(operations: int = 3_000_000) -> bytes:
    """One page of ``operations`` tiny filled triangles: seconds of drawing from ~150 KB."""
    content = b"0 0 m 1 1 l 2 0 l f\n" * operations
    return build(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            _stream(content, compress=True),
        ]
    )


# Opening the document runs a script, for readers that run scripts (poppler does not).
JAVASCRIPT = (
    b" /OpenAction << /S /JavaScript"
    b" /JS (app.alert\\('opened'\\); this.submitForm\\('http://127.0.0.1:9/'\\)) >>"
)
