"""The assistant's "in your own words" step (issue 20): read the words, offer the right form.

The text arrives in a POST, is read in memory by ``guidance.freetext`` and is sent back only
inside the answer page's forms (so the report form opens with it filled in, again by POST, never
in an address). Nothing is stored or logged. The form token it carries lets Quick exit on the
answer page tell the server to show nothing if the page is sent again from the browser's history.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from tipline.cases import categories, selectors
from tipline.cases.submissions import is_submission_token, new_submission_token
from tipline.guidance import assistant, endings, freetext
from tipline.web.body import BodyRefused, read_body, refused_response


def _redirect(name: str) -> HttpResponse:
    # A 303: the history entry that asked becomes the page's own.
    response = HttpResponseRedirect(reverse(name))
    response.status_code = 303
    return response


def _text(data: Any, name: str, limit: int) -> str:
    value = data.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


@csrf_exempt  # cookie-less: see CrossSiteWriteGuardMiddleware
@require_http_methods(["GET", "POST"])
def read(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _redirect("guidance:assistant")
    try:
        body = read_body(request)
    except BodyRefused as refused:
        return refused_response(request, refused)
    token = body.data.get("submission", "")
    if not is_submission_token(token):
        token = new_submission_token()
    elif selectors.submission_used(token):
        # Left with Quick exit, or the report was sent: the history entry shows nothing.
        return _redirect("intake:home")
    words = _text(body.data, "words", freetext.MAX_TEXT)
    if not words.strip():
        return _redirect("guidance:assistant")
    country = _text(body.data, "country", 16)
    reading = freetext.read(words, get_language() or "en")
    context: dict[str, Any] = {
        "reading": reading,
        "words": words,
        "submission": token,
        "country_code": country,
        "offered": [categories.get(code) for code in reading.offered],
        "others": [c for c in categories.CATEGORIES if c.code not in reading.offered],
        "country_choices": endings.country_choices(),
        "other_country": endings.OTHER_COUNTRY,
    }
    if reading.ending:
        ending = assistant.load().endings[reading.ending]
        shown = endings.context(ending, country)
        # The ending names a category of its own; the one to offer is the reading's.
        shown.pop("category", None)
        context.update(shown)
    else:
        context.update({"country": None, "country_other": False, "country_unknown": False})
    return render(request, "intake/words_answer.html", context)
