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

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"


class GuidanceDataError(Exception):
    """A mistake in a guidance data file; str() is ``path:line: reason``."""

    def __init__(self, path: str | Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = str(path)
        self.line = line
        self.reason = reason


class _Invalid(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


class Mapping(dict[str, Any]):
    """A YAML mapping that remembers its own line and the line of each key."""

    line: int = 1
    lines: dict[str, int]

    def line_of(self, key: str) -> int:
        lines: dict[str, int] = getattr(self, "lines", {})
        return lines.get(key, self.line)


class Sequence_(list[Any]):
    """A YAML sequence that remembers its own line and the line of each item."""

    line: int = 1
    lines: list[int]


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Mapping:
    loader.flatten_mapping(node)
    mapping = Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise _Invalid(line, f"keys must be text, not {key!r}")
        if key in mapping:
            raise _Invalid(line, f"duplicate key {key!r}")
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = line
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> Sequence_:
    sequence = Sequence_(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    sequence.lines = [child.start_mark.line + 1 for child in node.value]
    return sequence


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: Path | str, text: str, *, first_line: int = 1) -> Mapping:
    """Parse one document; ``first_line`` shifts line numbers (front matter inside Markdown)."""
    shift = first_line - 1
    try:
        document = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except _Invalid as error:
        raise GuidanceDataError(path, error.line + shift, error.reason) from None
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 1
        raise GuidanceDataError(path, line + shift, f"YAML syntax: {error.problem}") from None
    except yaml.YAMLError as error:
        raise GuidanceDataError(path, first_line, f"YAML: {error}") from None
    if not isinstance(document, Mapping):
        raise GuidanceDataError(path, first_line, "expected a mapping (key: value) at the top")
    if shift:
        _shift_lines(document, shift)
    return document


def _shift_lines(value: Any, shift: int) -> None:
    if isinstance(value, Mapping):
        value.line += shift
        value.lines = {k: v + shift for k, v in value.lines.items()}
        for item in value.values():
            _shift_lines(item, shift)
    elif isinstance(value, Sequence_):
        value.line += shift
        value.lines = [v + shift for v in value.lines]
        for item in value:
            _shift_lines(item, shift)


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
