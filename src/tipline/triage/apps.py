from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks


class TriageConfig(AppConfig):
    name = "tipline.triage"
    label = "triage"

    def ready(self) -> None:
        checks.register(rule_files_check)


def rule_files_check(**_kwargs: Any) -> list[checks.CheckMessage]:
    """A rule or scoring file with a mistake stops every command that starts the platform
    (``tipline serve`` runs the system checks first), naming the file, the line and the reason."""
    from tipline.triage import engine
    from tipline.triage.rules import RuleError

    try:
        engine.load()
    except RuleError as exc:
        return [checks.Error(str(exc), hint="Fix the rule file and start again.", id="triage.E001")]
    return []
