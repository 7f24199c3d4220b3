"""The hotline's workflow rules, read from ``data/workflow.toml``: four-eyes and retention.

Rules are data so that a hotline can match its own procedures and its lawyers' retention advice
without changing code. The file is validated when first read (at start, by the system check in
``tipline.cases.apps``): an unknown category, outcome or key is an error, never a silent default.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import Any

from tipline.cases import categories
from tipline.cases.states import Outcome

_FOUR_EYES_KEYS = {"illegal", "referral"}
_RETENTION_KEYS = {"contact_days", "content_days"}


class WorkflowConfigError(ValueError):
    """workflow.toml is malformed; the message names the table and key."""


@dataclass(frozen=True)
class FourEyes:
    illegal: bool
    referral: bool


@dataclass(frozen=True)
class Retention:
    contact_after: timedelta
    content_after: timedelta


@dataclass(frozen=True)
class Workflow:
    four_eyes: dict[str, FourEyes]  # category code (or "default") -> rule
    retention: dict[str, Retention]  # outcome code (or "default") -> rule
    agencies: tuple[str, ...]

    def four_eyes_for(self, category: str) -> FourEyes:
        return self.four_eyes.get(category, self.four_eyes["default"])

    def retention_for(self, outcome: str) -> Retention:
        return self.retention.get(outcome, self.retention["default"])


def _table(doc: dict[str, Any], name: str) -> dict[str, Any]:
    value = doc.get(name)
    if not isinstance(value, dict) or "default" not in value:
        raise WorkflowConfigError(f"[{name}] needs a [{name}.default] table")
    return value


def _check_keys(where: str, entry: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(entry, dict) or set(entry) != allowed:
        raise WorkflowConfigError(f"[{where}] must set exactly {', '.join(sorted(allowed))}")
    return entry


def parse(text: str) -> Workflow:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkflowConfigError(f"not valid TOML: {exc}") from None
    unknown = set(doc) - {"four_eyes", "retention", "agencies"}
    if unknown:
        raise WorkflowConfigError(f"unknown table(s): {', '.join(sorted(unknown))}")
    codes = {c.code for c in categories.CATEGORIES}
    four_eyes = {}
    for name, entry in _table(doc, "four_eyes").items():
        if name != "default" and name not in codes:
            raise WorkflowConfigError(f"[four_eyes.{name}]: no such category")
        entry = _check_keys(f"four_eyes.{name}", entry, _FOUR_EYES_KEYS)
        if not all(isinstance(v, bool) for v in entry.values()):
            raise WorkflowConfigError(f"[four_eyes.{name}]: values must be true or false")
        four_eyes[name] = FourEyes(illegal=entry["illegal"], referral=entry["referral"])
    retention = {}
    for name, entry in _table(doc, "retention").items():
        if name != "default" and name not in Outcome.values:
            raise WorkflowConfigError(f"[retention.{name}]: no such outcome")
        entry = _check_keys(f"retention.{name}", entry, _RETENTION_KEYS)
        contact, content = entry["contact_days"], entry["content_days"]
        if not all(type(v) is int and 0 <= v <= 36500 for v in (contact, content)):
            raise WorkflowConfigError(f"[retention.{name}]: days must be whole numbers 0-36500")
        if contact > content:
            # Contact details outliving the content they relate to would serve no purpose.
            raise WorkflowConfigError(f"[retention.{name}]: contact_days exceeds content_days")
        retention[name] = Retention(timedelta(days=contact), timedelta(days=content))
    agencies = []
    for i, entry in enumerate(doc.get("agencies", [])):
        agency = entry.get("name") if isinstance(entry, dict) else None
        if (
            not isinstance(agency, str)
            or not 0 < len(agency.strip()) <= 200
            or set(entry) != {"name"}
        ):
            raise WorkflowConfigError(f"[[agencies]] entry {i + 1}: needs a name (1-200 chars)")
        agencies.append(agency.strip())
    return Workflow(four_eyes=four_eyes, retention=retention, agencies=tuple(agencies))


@functools.cache
def load() -> Workflow:
    return parse(resources.files("tipline.cases").joinpath("data/workflow.toml").read_text())
