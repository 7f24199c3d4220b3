"""YAML data files with line numbers, so a mistake is reported as ``path:line: reason``.

Rule files (triage), guidance pages' front matter, the assistant's tree and the jurisdiction
table are edited by people who are not programmers. Each loader turns these line-aware mappings
into its own typed objects and raises its own error (a subclass of `DataFileError`) naming the
file and line. Only ``yaml.SafeLoader`` constructs are accepted; duplicate keys are refused
rather than silently keeping the last one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class DataFileError(Exception):
    """A mistake in a data file; str() is ``path:line: reason``."""

    def __init__(self, path: str | Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = str(path)
        self.line = line
        self.reason = reason


class InvalidAt(Exception):
    """Raised while reading a document, before the file's path is attached."""

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
            raise InvalidAt(line, f"keys must be text, not {key!r}")
        if key in mapping:
            raise InvalidAt(line, f"duplicate key {key!r}")
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


def load_yaml(
    path: Path | str,
    data: str | bytes,
    *,
    first_line: int = 1,
    error: type[DataFileError] = DataFileError,
) -> Mapping:
    """Parse one document whose top level must be a mapping.

    ``first_line`` shifts line numbers (front matter inside a Markdown file); ``error`` is the
    loader's own subclass of DataFileError, raised for every mistake.
    """
    shift = first_line - 1
    try:
        document = yaml.load(data, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except InvalidAt as invalid:
        raise error(path, invalid.line + shift, invalid.reason) from None
    except yaml.MarkedYAMLError as problem:
        line = problem.problem_mark.line + 1 if problem.problem_mark else 1
        raise error(path, line + shift, f"YAML syntax: {problem.problem or problem}") from None
    except yaml.YAMLError as problem:
        raise error(path, first_line, f"YAML: {problem}") from None
    if not isinstance(document, Mapping):
        raise error(path, first_line, "expected a mapping (key: value) at the top level")
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
