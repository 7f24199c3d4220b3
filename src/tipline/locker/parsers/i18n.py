"""Translation of the parsers' messages to the victim, safe when Django is not set up.

The messages are read by victims in the active language of the request. The same parsers also
run bare (the fuzzing and benchmark harnesses), where Django's gettext would raise because there
are no settings or no app registry; there the English text is returned as is.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.apps import apps
from django.conf import settings
from django.utils.translation import get_language, gettext

__all__ = ["_", "gettext_noop", "in_language"]


def _(message: str) -> str:
    """`gettext(message)` inside Django, the English `message` outside it."""
    if settings.configured and apps.ready:
        return gettext(message)
    return message


def gettext_noop(message: str) -> str:
    """Marks `message` for the catalogue; Django's own would need settings just to return it."""
    return message


def in_language(texts: Mapping[str, str]) -> str:
    """A data file's `{en: ..., fr: ..., hi: ...}` text in the active language, else English."""
    active = get_language() if settings.configured and apps.ready else None
    return texts.get((active or "en").split("-")[0]) or texts["en"]
