"""An upload handler that keeps files in memory, bounded, and never writes them to disk.

Django's default handlers spill uploads over 2.5 MB to a temporary file: plaintext evidence on
disk. This one holds each file in memory up to TIPLINE_MAX_FILE_BYTES.

A file over that size, or past the TIPLINE_MAX_FILES-th, is *skipped*: its bytes are read and
dropped (never kept, never buffered past the limit) and the handler records it as refused, while
the rest of the request — the words a reporter typed, in whatever order the browser sent them —
is still read. The view can then show the form again with every word kept and the file field
marked, instead of a separate error page whose Back button gives an empty form.

The record stays on the handler; ``tipline.web.body.read_body`` is its only reader.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

Reason = Literal["too_large", "too_many"]


@dataclass(frozen=True)
class RefusedFile:
    """A file that was sent but not kept; ``name`` is as the client sent it (show it escaped)."""

    field: str
    name: str
    reason: Reason


class BoundedMemoryUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.refused: list[RefusedFile] = []
        self.kept = 0

    def limit(self) -> int:
        """Bytes one file may have; subclasses with a different limit override this."""
        return int(settings.TIPLINE_MAX_FILE_BYTES)

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.size = 0
        if self.kept >= int(settings.TIPLINE_MAX_FILES):
            self._refuse("too_many")
        if self.content_length is not None and self.content_length > self.limit():
            self._refuse("too_large")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > self.limit():
            self._refuse("too_large")
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.kept += 1
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )

    def _refuse(self, reason: Reason) -> None:
        self.buffer = io.BytesIO()  # let what was read so far go at once
        name = self.file_name or ""
        self.refused.append(RefusedFile(field=self.field_name, name=name, reason=reason))
        # Django's parser drains the rest of this file and goes on with the next field.
        raise SkipFile
