from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language


def site(request: HttpRequest) -> dict[str, Any]:
    current = get_language() or settings.LANGUAGE_CODE
    links = []
    for code, name in settings.LANGUAGES:
        url = translate_url(request.path, code)
        # A path that matches no page (a 404) cannot be translated: offer that language's home.
        if code != current and url == request.path:
            url = f"/{code}/"
        links.append({"code": code, "name": name, "url": url})
    return {
        "hotline_name": settings.TIPLINE_HOTLINE_NAME,
        "quick_exit_url": settings.TIPLINE_QUICK_EXIT_URL,
        "current_language": current,
        "language_links": links,
    }
