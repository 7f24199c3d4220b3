"""Where Meta's PDQ reference photos are: the benign test images for hashing and matching.

They live beside the repository (``../shared/data/pdq``) on the team's machines; a clone elsewhere
(CI) finds them at the machine's shared folder or through ``TIPLINE_PDQ_DATA``.
"""

from __future__ import annotations

import os
from pathlib import Path

_CANDIDATES = [
    os.environ.get("TIPLINE_PDQ_DATA", ""),
    str(Path(__file__).resolve().parents[2] / "shared" / "data" / "pdq"),
    "/work/shared/data/pdq",
]


def pdq_data() -> Path:
    """The folder, or a path that does not exist (tests then skip, saying why)."""
    for candidate in _CANDIDATES:
        if candidate and (Path(candidate) / "expected-pdq.tsv").is_file():
            return Path(candidate)
    return Path("/nonexistent/pdq-reference-photos")
