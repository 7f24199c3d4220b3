"""The installable app: web app manifest, service worker and offline page (public, no data).

The service worker is served from the site root (not /static/) so that its scope covers every
``/<lang>/`` page; it is rendered from a template so that its precache list follows the
configured languages and static URLs. What it may cache, and why, is explained in sw.js itself
and in docs/threat-model.md: public guidance only, never anything a reporter typed.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tipline.web.neutral import is_neutral

# Bump when the precache list or the caching rules change: the new worker drops older caches.
SW_VERSION = "1"
_LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)
# Saved when the worker installs, in every language: readable offline even if never opened.
_PRECACHED_PAGES = ("offline", "intake:emergency", "guidance:index")


def _language(requested: str) -> str:
    """A supported language code: anything else (tampered, huge) falls back to the default."""
    return requested if requested in _LANGUAGES else settings.LANGUAGE_CODE


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    precache = [static(name) for name in ("tipline/site.css", "tipline/site.js")]
    for code in _LANGUAGES:
        with translation.override(code):
            precache += [reverse(name) for name in _PRECACHED_PAGES]
    context = {
        "version": SW_VERSION,
        "precache": json.dumps(precache),
        "languages": json.dumps(list(_LANGUAGES)),
        "static_prefix": json.dumps(settings.STATIC_URL),
    }
    body = render_to_string("web/sw.js", context)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # Allows the root scope explicitly (the default for a root script, but proxies that move it
    # keep working); no-cache so that browsers check for a new worker on every visit.
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """The app's name and icons; ``?neutral=1`` gives a plain "Notes" app for a shared phone."""
    neutral = is_neutral(request)
    lang = _language(request.GET.get("lang", "")[:8])
    with translation.override(lang):
        name = _("Notes") if neutral else settings.TIPLINE_HOTLINE_NAME
        description = "" if neutral else _("Report online child exploitation or harassment.")
    icon = "tipline/neutral" if neutral else "tipline/icon"
    data = {
        "name": name,
        "short_name": name,
        "description": description,
        "lang": lang,
        # "/" picks the language from the browser; a neutral app keeps its neutral title.
        "start_url": "/?neutral=1" if neutral else "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f7f7f4",
        "theme_color": "#6b7280" if neutral else "#1f5f8b",
        "icons": [
            {"src": static(f"{icon}.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static(f"{icon}-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static(f"{icon}-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    }
    body = json.dumps(data, ensure_ascii=False)
    return HttpResponse(body, content_type="application/manifest+json")


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """Shown by the service worker for a page that is neither online nor saved for offline use."""
    return render(request, "web/offline.html")
