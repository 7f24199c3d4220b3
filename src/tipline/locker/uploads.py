"""The locker's upload handler: like the site's, in memory only, with the locker's own limit.

Chat exports with media are larger than the 20 MB a report file may be, so the import view
swaps in this handler (before the body is read) with ``TIPLINE_LOCKER_MAX_IMPORT_BYTES``. Bytes
never touch disk in plaintext; past the limit the whole request is abandoned and nothing is kept.
"""

from __future__ import annotations

from django.conf import settings

from tipline.web.uploads import BoundedMemoryUploadHandler


class LockerUploadHandler(BoundedMemoryUploadHandler):
    def limit(self) -> int:
        return int(settings.TIPLINE_LOCKER_MAX_IMPORT_BYTES)
