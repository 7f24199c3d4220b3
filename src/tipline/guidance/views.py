"""Public guidance views (trust domain 1): thin adapters over the data loaders.

Nothing here sets a cookie or keeps state: the assistant's position travels in the query
string. A tampered parameter (unknown step, unknown country, huge value) gets a friendly page in
the normal layout, never an error.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from tipline.cases import categories
from tipline.cases.submissions import new_submission_token
from tipline.guidance import assistant as tree_module
from tipline.guidance import endings, freetext, library

MAX_PARAM = 64
# The assistant is a few questions deep; a longer trail can only be tampered with.
MAX_TRAIL = 20


def _language() -> str:
    return get_language() or settings.LANGUAGE_CODE


def _not_found(request: HttpRequest, *, what: str) -> HttpResponse:
    return render(request, "guidance/not_found.html", {"what": what}, status=404)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "guidance/index.html", {"groups": library.index(_language())})


@require_GET
def page(request: HttpRequest, slug: str) -> HttpResponse:
    shown = library.get(slug, _language()) if len(slug) <= MAX_PARAM else None
    if shown is None:
        return _not_found(request, what="page")
    report_links = [categories.get(code) for code in shown.page.categories]
    return render(request, "guidance/page.html", {"shown": shown, "report_links": report_links})


def _param(request: HttpRequest, name: str) -> str | None:
    """A query parameter, or None when it is absent, repeated oddly or far too long."""
    value = request.GET.get(name, "")
    return value if len(value) <= MAX_PARAM else None


def _trail(tree: tree_module.Tree, raw: str) -> list[str]:
    """The questions answered so far, carried in the address (nothing is kept on the server).

    It only drives the "Previous question" link: with JavaScript on, the site replaces history
    entries (so Quick exit leaves no trail), and the browser's Back button cannot be relied on.
    A tampered trail (unknown step, too long) is dropped, never an error.
    """
    if len(raw) > MAX_PARAM * MAX_TRAIL:
        return []
    steps = [part for part in raw.split(",") if part]
    if len(steps) > MAX_TRAIL or any(part not in tree.nodes for part in steps):
        return []
    return steps


def _previous_url(base: str, trail: list[str]) -> str:
    if not trail:
        return ""
    query = {"node": trail[-1]} | ({"trail": ",".join(trail[:-1])} if len(trail) > 1 else {})
    return f"{base}?{urlencode(query)}"


@require_GET
def assistant(request: HttpRequest) -> HttpResponse:
    tree = tree_module.load()
    node_param, country_param = _param(request, "node"), _param(request, "country")
    step = tree.step(node_param or tree.start) if node_param is not None else None
    if step is None:
        return _not_found(request, what="step")
    language = _language()
    base = reverse("guidance:assistant")
    trail = _trail(tree, request.GET.get("trail", ""))
    context: dict[str, Any] = {
        "restart": base,
        "at_start": step.id == tree.start,
        "previous": _previous_url(base, trail),
        # The country picker is a GET form: it carries the trail so "Previous question" stays.
        "trail": ",".join(trail),
        # The "in your own words" form (intake/words.py) on the first page only.
        "submission": new_submission_token() if step.id == tree.start else "",
        "words_max": freetext.MAX_TEXT,
    }
    if isinstance(step, tree_module.Ending):
        context.update(endings.context(step, country_param or ""))
        return render(request, "guidance/assistant_ending.html", context)
    onward = ",".join([*trail, step.id])
    context.update(
        {
            "node": step,
            "question": step.question.get(language),
            "help": step.help.get(language) if step.help else None,
            "answers": [
                (
                    answer.label.get(language),
                    f"{base}?{urlencode({'node': answer.next, 'trail': onward})}",
                )
                for answer in step.answers
            ],
        }
    )
    return render(request, "guidance/assistant.html", context)
