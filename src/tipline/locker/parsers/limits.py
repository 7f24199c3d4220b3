"""Limits on what an import may cost, so a hostile file is refused before it costs much.

Each limit is a module constant; a deployment may override it with a Django setting named
`TIPLINE_LOCKER_<NAME>` (e.g. `TIPLINE_LOCKER_MAX_INPUT_BYTES`). The parsers are pure functions
over bytes and also run without Django configured (benchmarks, fuzzing); then the constants apply.
"""

from __future__ import annotations

from django.conf import settings

MB = 1024 * 1024

# The whole file as uploaded or given to `tipline evidence parse`.
MAX_INPUT_BYTES = 100 * MB
# Zip exports (WhatsApp "with media"): members, their total size once decompressed, and how much
# any one member may expand (a chat text compresses ~10x; bombs compress 1000x and more).
MAX_ZIP_MEMBERS = 5_000
MAX_ZIP_TOTAL_BYTES = 300 * MB
MAX_ZIP_RATIO = 200
# Ratios of tiny members say nothing (a 2 KB run of spaces compresses 100x); only members at
# least this big once decompressed are held to MAX_ZIP_RATIO.
ZIP_RATIO_MIN_BYTES = 1 * MB
# JSON and XML nesting; real exports nest fewer than 10 levels.
MAX_NESTING = 64
# Items in one file: 2 million covers years of daily chatting and bounds memory.
MAX_ITEMS = 2_000_000
# Images: the project-wide decompression-bomb limit (settings.TIPLINE_MAX_IMAGE_PIXELS) when
# Django is configured, else this.
MAX_IMAGE_PIXELS = 40_000_000

_DEFAULTS = {
    "MAX_INPUT_BYTES": MAX_INPUT_BYTES,
    "MAX_ZIP_MEMBERS": MAX_ZIP_MEMBERS,
    "MAX_ZIP_TOTAL_BYTES": MAX_ZIP_TOTAL_BYTES,
    "MAX_ZIP_RATIO": MAX_ZIP_RATIO,
    "ZIP_RATIO_MIN_BYTES": ZIP_RATIO_MIN_BYTES,
    "MAX_NESTING": MAX_NESTING,
    "MAX_ITEMS": MAX_ITEMS,
}


def limit(name: str) -> int:
    """The limit called `name`, from Django settings if set there, else the module default."""
    default = _DEFAULTS[name]
    if settings.configured:
        return int(getattr(settings, "TIPLINE_LOCKER_" + name, default))
    return default


def max_image_pixels() -> int:
    if settings.configured:
        return int(getattr(settings, "TIPLINE_MAX_IMAGE_PIXELS", MAX_IMAGE_PIXELS))
    return MAX_IMAGE_PIXELS


def megabytes(size: int) -> str:
    return f"{size / MB:g} MB"
