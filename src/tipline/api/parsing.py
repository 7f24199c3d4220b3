"""Turning a JSON body into form data, with a specific message for each wrong type."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _


class BadBody(Exception):
    def __init__(self, errors: dict[str, list[str]], status: int = 400) -> None:
        super().__init__("bad body")
        self.errors = errors
        self.status = status


MAX_DEPTH_HINT = 2  # the API takes flat objects; deeper nesting is refused by type checks


def json_object(request: HttpRequest) -> dict[str, Any]:
    content_type = request.content_type or ""
    if content_type != "application/json":
        raise BadBody({"__all__": [_("Send the body as application/json.")]}, status=415)
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BadBody({"__all__": [_("The body is too large.")]}, status=413) from None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadBody({"__all__": [_("The body is not valid JSON.")]}) from None
    if not isinstance(value, dict):
        raise BadBody({"__all__": [_("The body must be a JSON object.")]})
    return value


def to_form_data(
    value: dict[str, Any], *, list_fields: tuple[str, ...], known: set[str]
) -> QueryDict:
    """Flatten a JSON object into form data: lists become one item per line."""
    errors: dict[str, list[str]] = {}
    data = QueryDict(mutable=True)
    for name, item in value.items():
        if name not in known:
            errors.setdefault(name, []).append(_("Unknown field."))
            continue
        if name in list_fields:
            if isinstance(item, str):
                data[name] = item
            elif isinstance(item, list) and all(isinstance(x, str) for x in item):
                if any("\n" in x for x in item):
                    errors.setdefault(name, []).append(_("List items cannot contain line breaks."))
                data[name] = "\n".join(item)
            else:
                errors.setdefault(name, []).append(_("Expected a list of strings."))
        elif isinstance(item, str):
            data[name] = item
        elif item is None:
            continue
        else:
            errors.setdefault(name, []).append(_("Expected a string."))
    if errors:
        raise BadBody(errors)
    return data
