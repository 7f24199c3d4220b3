"""Reading API bodies: JSON into form data and multipart through the site's one body reader,
with a specific message, naming the field, for each thing that is wrong.

Every JSON entry point goes through ``json_object``; every multipart one through
``multipart_body``. Both answer with ``BadBody`` (``{"errors": {field: [messages]}}``), never
with a page.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

from tipline.web.body import Body, BodyRefused, read_body


class BadBody(Exception):
    def __init__(self, errors: dict[str, list[str]], status: int = 400) -> None:
        super().__init__("bad body")
        self.errors = errors
        self.status = status


MAX_DEPTH_HINT = 2  # the API takes flat objects; deeper nesting is refused by type checks
MAX_NAMED = 10  # at most this many fields named in one answer


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
    refuse_surrogates(value)
    return value


def _printable(name: str) -> str:
    """A field name fit to echo: surrogates written as escapes, length bounded."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")[:40]


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _surrogate_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [path] if _has_surrogate(value) else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{_printable(key)}" if path else _printable(key)
            found += [where] if _has_surrogate(key) else _surrogate_paths(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _surrogate_paths(item, f"{path}.{index}")
    return found


def refuse_surrogates(value: dict[str, Any]) -> None:
    """JSON may escape half of a UTF-16 pair (``"\\ud800"``); Python decodes it to a string that
    is not text and cannot be encoded, so sealing it failed with a 500. Refuse it here, at the
    edge, naming each field, before anything else looks at the body."""
    paths = _surrogate_paths(value, "")
    if paths:
        message = _(
            "This text contains an unpaired surrogate (an escape from \\ud800 to \\udfff "
            "without its pair), which is not a character. Send valid UTF-8 or complete pairs."
        )
        raise BadBody({path: [message] for path in paths[:MAX_NAMED]})


def multipart_body(request: HttpRequest, *, file_field: str) -> Body:
    """Fields and files of a multipart body; a file that could not be taken is named by field."""
    try:
        body = read_body(request)
    except BodyRefused as refused:
        raise BadBody({"__all__": [refused.message]}, status=refused.status) from None
    messages = body.refusals(file_field)
    if body.refused and not messages:
        messages = [_("Files belong in the part named '%(name)s'.") % {"name": file_field}]
    if messages:
        raise BadBody({file_field: messages}, status=413 if body.too_large else 400)
    return body


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
