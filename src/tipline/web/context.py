from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse, translate_url
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tipline.web import neutral

MAX_CARRIED_QUERY = 1024

# The header's main navigation: (URL name, label). The quick exit is separate and always first.
_NAV = (
    ("guidance:index", _("Get help")),
    ("locker:home", _("Evidence locker")),
    ("intake:emergency", _("Emergency numbers")),
)


def _navigation(request: HttpRequest) -> list[dict[str, Any]]:
    match = getattr(request, "resolver_match", None)
    here = match.view_name if match is not None else ""
    items = []
    for name, label in _NAV:
        try:
            url = reverse(name)
        except NoReverseMatch:  # a section not installed in this deployment
            continue
        section = name.split(":")[0]
        current = here == name or (section != "intake" and here.startswith(f"{section}:"))
        items.append({"url": url, "label": label, "current": current})
    return items


def site(request: HttpRequest) -> dict[str, Any]:
    current = get_language() or settings.LANGUAGE_CODE
    # Switching language keeps a page's GET parameters (the assistant's answers so far), so the
    # reporter does not start again; a tampered, oversized query is simply dropped.
    query = request.GET.urlencode() if request.method == "GET" else ""
    suffix = f"?{query}" if query and len(query) <= MAX_CARRIED_QUERY else ""
    links = []
    for code, name in settings.LANGUAGES:
        url = translate_url(request.path, code)
        # A path that matches no page (a 404) cannot be translated: offer that language's home.
        if code != current and url == request.path:
            url = f"/{code}/"
        else:
            url += suffix
        links.append({"code": code, "name": name, "url": url})
    return {
        "hotline_name": settings.TIPLINE_HOTLINE_NAME,
        "quick_exit_url": settings.TIPLINE_QUICK_EXIT_URL,
        "current_language": current,
        "language_links": links,
        "site_nav": _navigation(request),
        "neutral": neutral.is_neutral(request),
        # Only on pages reached by a link: a page answering a form (a receipt) is shown once.
        "neutral_toggle_url": neutral.toggle_url(request) if request.method == "GET" else "",
    }
