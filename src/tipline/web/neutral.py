"""Neutral tab title: a shared phone or computer should not show "Tipline" in its tabs or history.

Design (works without cookies and without JavaScript):

* The preference lives in the address: ``?neutral=1``. The context processor turns it into a
  neutral ``<title>`` ("Notes") and favicon, and NeutralLinksMiddleware adds ``neutral=1`` to every
  same-site link and form on that page, so the choice follows the reporter from page to page.
  ``?neutral=0`` turns it off. Nothing is stored on the server, and no cookie is set.
* With JavaScript, site.js also keeps the choice in ``sessionStorage`` for this tab only (a
  display preference, never report data), so a page reached some other way stays neutral too.

It is camouflage for a glance at the screen or the history list, not secrecy: the address bar
still shows the site. docs/threat-model.md says what it does and does not hide.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest

PARAM = "neutral"

# A same-site link or form target written by our templates: href, action or formaction="/…" (not
# protocol-relative, not static files, which need no preference). Attribute values are escaped
# HTML, so a query's "&" is "&amp;".
_LOCAL_TARGET = re.compile(r'(\s(?:href|action|formaction)=")(/(?!/)[^"?#]*)(\?[^"#]*)?(#[^"]*)?"')
# A form that submits with GET replaces the action's query string: it needs a hidden field.
_GET_FORM = re.compile(r"<form\b(?![^>]*\bmethod=\"?post)[^>]*>", re.IGNORECASE)
_HIDDEN = f'<input type="hidden" name="{PARAM}" value="1">'


def is_neutral(request: HttpRequest) -> bool:
    return request.GET.get(PARAM) == "1"


def toggle_url(request: HttpRequest) -> str:
    """This page with the preference switched (other query parameters kept)."""
    query = request.GET.copy()
    query[PARAM] = "0" if is_neutral(request) else "1"
    return f"{request.path}?{urlencode(sorted(query.lists()), doseq=True)}"


def _add_param(match: re.Match[str]) -> str:
    prefix, path, query, fragment = match.group(1), match.group(2), match.group(3), match.group(4)
    if path.startswith(settings.STATIC_URL) or (query and f"{PARAM}=" in query):
        return match.group(0)
    query = f"{query}&amp;{PARAM}=1" if query and len(query) > 1 else f"?{PARAM}=1"
    return f'{prefix}{path}{query}{fragment or ""}"'


def rewrite(html: str) -> str:
    """Every same-site link and form on a neutral page keeps the neutral preference."""
    html = _LOCAL_TARGET.sub(_add_param, html)
    return _GET_FORM.sub(lambda m: m.group(0) + _HIDDEN, html)
