"""Hand-built multipart bodies, for what a browser or the test client would never send
(file names of thousands of characters, raw bytes that are not UTF-8)."""

from __future__ import annotations

from collections.abc import Sequence

BOUNDARY = "----tiplinetestboundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(
    fields: dict[str, str | bytes], files: Sequence[tuple[str, str, bytes]] = ()
) -> bytes:
    """``files`` are (field, file name, bytes); field values may be raw bytes."""
    parts: list[bytes] = []
    for name, value in fields.items():
        raw = value if isinstance(value, bytes) else value.encode()
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + raw
            + b"\r\n"
        )
    for field, filename, data in files:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
