"""The text triage reads for a report: its free-text answers and the reporter's messages.

One string is scored (rules see the whole account, and a proximity rule may span two answers),
made of labelled segments; a matched span is mapped back to the segment and the offsets within
it, so the console can highlight the words where the analyst reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Free-text answers worth scoring, in reading order. Names are left out: a name is not a risk.
TEXT_FIELDS = ("what_happened", "when", "platform", "child_location", "deadline")
SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Segment:
    name: str  # an answer's field name, or "message:<uuid>"
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    text: str
    segments: tuple[Segment, ...]

    def locate(self, start: int, end: int) -> tuple[str, int, int] | None:
        """The segment holding [start, end) and the offsets within it (None if it spans two)."""
        for segment in self.segments:
            if segment.start <= start and end <= segment.end:
                return segment.name, start - segment.start, end - segment.start
        return None


def build(details: dict[str, Any], messages: Iterable[tuple[str, str]] = ()) -> Document:
    """``messages`` are (message id, body) pairs of the reporter's own messages."""
    parts: list[tuple[str, str]] = [
        (name, value)
        for name in TEXT_FIELDS
        if isinstance(value := details.get(name), str) and value.strip()
    ]
    parts += [(f"message:{mid}", body) for mid, body in messages if body.strip()]
    text: list[str] = []
    segments: list[Segment] = []
    at = 0
    for name, value in parts:
        if text:
            text.append(SEPARATOR)
            at += len(SEPARATOR)
        text.append(value)
        segments.append(Segment(name, at, at + len(value)))
        at += len(value)
    return Document(text="".join(text), segments=tuple(segments))
