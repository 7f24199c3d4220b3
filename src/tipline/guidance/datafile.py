"""Reading the guidance data files: YAML with line numbers, and errors that name file and line.

Guidance pages, the assistant's tree and the jurisdiction table are edited by people who are not
programmers. A mistake must stop the platform at start-up (system check ``guidance.E001``) with
``path:line: field: reason``, never show up later as a broken page or a silent dead end. Only
``yaml.SafeLoader`` constructs are accepted.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tipline import yamlfile
from tipline.yamlfile import DataFileError, Mapping, Sequence_

DATA_DIR = Path(__file__).resolve().parent / "data"


class GuidanceDataError(DataFileError):
    """A mistake in a guidance data file; str() is ``path:line: reason``."""


def load_yaml(path: Path | str, text: str, *, first_line: int = 1) -> Mapping:
    """Parse one document; ``first_line`` shifts line numbers (front matter inside Markdown)."""
    return yamlfile.load_yaml(path, text, first_line=first_line, error=GuidanceDataError)


class Reader:
    """Typed access to one mapping, raising ``GuidanceDataError`` naming file, line and field."""

    def __init__(self, path: Path | str, mapping: Any, where: str = "", line: int = 1) -> None:
        self.path = path
        self.where = where
        if not isinstance(mapping, Mapping):
            raise GuidanceDataError(path, line, f"{where or 'entry'}: expected a mapping")
        self.mapping = mapping

    def fail(self, key: str | None, reason: str) -> GuidanceDataError:
        line = self.mapping.line_of(key) if key else self.mapping.line
        name = ".".join(part for part in (self.where, key or "") if part)
        return GuidanceDataError(self.path, line, f"{name}: {reason}" if name else reason)

    def only(self, *allowed: str) -> None:
        for key in self.mapping:
            if key not in allowed:
                raise self.fail(key, f"unknown field (allowed: {', '.join(allowed)})")

    def text(self, key: str, *, required: bool = True, max_length: int = 2000) -> str:
        value = self.mapping.get(key)
        if value is None and not required:
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # a phone number written without quotes
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "required text is missing" if value is None else "must be text")
        if len(value) > max_length:
            raise self.fail(key, f"longer than {max_length} characters")
        return value.strip()

    def date(self, key: str) -> datetime.date:
        value = self.mapping.get(key)
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            raise self.fail(key, "must be a date written as YYYY-MM-DD")
        return value

    def url(self, key: str, *, required: bool = True) -> str:
        value = self.text(key, required=required)
        if value and not is_web_url(value):
            raise self.fail(key, "must be a full https:// or http:// address")
        return value

    def child(self, key: str, *, required: bool = True) -> Reader | None:
        value = self.mapping.get(key)
        if value is None and not required:
            return None
        if value is None:
            raise self.fail(key, "required section is missing")
        where = f"{self.where}.{key}" if self.where else key
        return Reader(self.path, value, where, self.mapping.line_of(key))

    def section(self, key: str) -> Reader:
        """A required nested mapping."""
        found = self.child(key)
        if found is None:  # pragma: no cover - child() raises for a missing required key
            raise self.fail(key, "required section is missing")
        return found

    def items(self, key: str, *, required: bool = True) -> list[Reader]:
        value = self.mapping.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, Sequence_):
            raise self.fail(key, "must be a list")
        where = f"{self.where}.{key}" if self.where else key
        return [
            Reader(self.path, item, f"{where}[{index}]", value.lines[index])
            for index, item in enumerate(value)
        ]

    def strings(self, key: str, *, required: bool = True) -> list[tuple[str, int]]:
        """A list of short texts with the line of each."""
        value = self.mapping.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, Sequence_):
            raise self.fail(key, "must be a list")
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise GuidanceDataError(
                    self.path, value.lines[index], f"{key}[{index}]: must be text"
                )
            out.append((item.strip(), value.lines[index]))
        return out


def is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and " " not in value
