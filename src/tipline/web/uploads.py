"""An upload handler that keeps files in memory, bounded, and never writes them to disk.

Django's default handlers spill uploads over 2.5 MB to a temporary file: plaintext evidence on
disk. This one holds each file in memory up to TIPLINE_MAX_FILE_BYTES and aborts the whole
request past that (the view answers 413), so nothing is half-saved.
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class UploadTooLarge(Exception):
    pass


class BoundedMemoryUploadHandler(FileUploadHandler):
    def limit(self) -> int:
        """Bytes one file may have; subclasses with a different limit override this."""
        return int(settings.TIPLINE_MAX_FILE_BYTES)

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > self.limit():
            self.request.upload_too_large = True  # type: ignore[union-attr]
            raise StopUpload(connection_reset=False)
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
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
