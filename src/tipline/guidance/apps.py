"""Help before the form: guidance pages, the guided assistant and per-country agencies.

Public trust domain: it never imports console or staff code.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks


class GuidanceConfig(AppConfig):
    name = "tipline.guidance"
    label = "guidance"

    def ready(self) -> None:
        checks.register(data_files_check)


def data_files_check(**_kwargs: Any) -> list[checks.CheckMessage]:
    """A guidance page, the assistant's tree or the jurisdiction table with a mistake stops every
    command that starts the platform, naming the file, the line, the field and the reason."""
    from tipline.guidance import after_report, assistant, freetext, jurisdictions, library
    from tipline.guidance.datafile import GuidanceDataError

    try:
        library.load()
        jurisdictions.load()
        assistant.load()
        after_report.load()
        freetext.load()
    except GuidanceDataError as exc:
        return [
            checks.Error(str(exc), hint="Fix the data file and start again.", id="guidance.E001")
        ]
    return []
