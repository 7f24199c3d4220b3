"""OpenAPI paths of the partner routes (bulk reports, status, files; bank changes and VICS),
described from the constants the views check. Kept apart from ``openapi.py`` to keep each small.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from tipline.api.banks import MAX_CURSOR, MAX_PAGE
from tipline.matching.models import CLASSIFICATIONS, HashKind
from tipline.partnerapi.reports import MAX_BATCH, REFERENCE

_OBJECT = {"content": {"application/json": {"schema": {"type": "object"}}}}
_ERRORS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
    },
}
_STATUSES = ["received", "in_review", "action_taken", "closed"]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _refusals(scope: str) -> dict[str, Any]:
    return {
        "401": {
            "description": "Missing, malformed, unknown or revoked token (all alike)",
            **_OBJECT,
        },
        "403": {"description": f"The token lacks the '{scope}' scope", **_OBJECT},
    }


_REPORT_ID = {
    "name": "report_id",
    "in": "path",
    "required": True,
    "description": "The id Tipline answered for one of your reports.",
    "schema": {"type": "string"},
}
_BANK = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "A bank the hotline shares (others, and unknown names, are the same 404).",
    "schema": {"type": "string"},
}


def _status_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "reference", "status", "outcome", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "reference": {"type": "string"},
            "status": {"type": "string", "enum": _STATUSES},
            "outcome": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    }


def paths(report_schema: dict[str, Any], idempotency: dict[str, Any]) -> dict[str, Any]:
    item = {
        **report_schema,
        "properties": {
            **report_schema["properties"],
            "reference": {
                "type": "string",
                "pattern": f"^{REFERENCE.pattern}$",
                "description": "Your own id for the report; sending it again returns the "
                "first report's id instead of filing twice.",
            },
        },
        "required": [*report_schema["required"], "reference"],
    }
    result = {
        "type": "object",
        "required": ["index", "status"],
        "properties": {
            "index": {"type": "integer"},
            "reference": {"type": "string"},
            "status": {"type": "string", "enum": ["created", "existing", "invalid"]},
            "id": {"type": "string", "format": "uuid"},
            "errors": _ERRORS["properties"]["errors"],
        },
    }
    change = {
        "type": "object",
        "required": ["seq", "op", "type", "value", "classification"],
        "properties": {
            "seq": {"type": "integer"},
            "op": {"type": "string", "enum": ["add", "remove"]},
            "type": {"type": "string", "enum": list(HashKind.values)},
            "value": {"type": "string"},
            "classification": {"type": "string", "enum": list(CLASSIFICATIONS)},
            "quality": {"type": ["integer", "null"]},
            "metadata": {"type": "object"},
        },
    }
    return {
        "/api/v1/partner/reports": {
            "post": {
                "summary": f"File up to {MAX_BATCH} reports (partners, scope 'reports')",
                "description": (
                    "Each item is checked like a report from the anonymous API, plus your "
                    "reference. Items are answered one by one in the order sent: a bad item "
                    "is 'invalid' with its errors and does not stop the others; an item whose "
                    "reference you sent before is 'existing' with the same id. A reference "
                    "appearing twice in one batch is refused each time."
                ),
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "required": ["reports"],
                            "additionalProperties": False,
                            "properties": {
                                "reports": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": MAX_BATCH,
                                    "items": item,
                                }
                            },
                        }
                    ),
                },
                "responses": {
                    "200": {
                        "description": "One result per item, in the order sent",
                        **_json(
                            {
                                "type": "object",
                                "required": ["results"],
                                "properties": {"results": {"type": "array", "items": result}},
                            }
                        ),
                    },
                    "400": {"description": "The body is not a batch", **_json(_ERRORS)},
                    **_refusals("reports"),
                    "413": {
                        "description": f"Body over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes",
                        **_json(_ERRORS),
                    },
                    "415": {"description": "Not JSON", **_json(_ERRORS)},
                },
            }
        },
        "/api/v1/partner/reports/{report_id}": {
            "get": {
                "summary": "Status and outcome of one of your reports",
                "security": [{"bearer": []}],
                "parameters": [_REPORT_ID],
                "responses": {
                    "200": {"description": "The coarse status", **_json(_status_schema())},
                    **_refusals("reports"),
                    "404": {"description": "Not one of your reports (or no such id)", **_OBJECT},
                },
            }
        },
        "/api/v1/partner/reports/{report_id}/files": {
            "post": {
                "summary": "Add files to one of your reports",
                "description": (
                    "multipart/form-data with one or more parts named 'files', validated like "
                    f"uploads on the public site (at most {settings.TIPLINE_MAX_FILES} files of "
                    f"{settings.TIPLINE_MAX_FILE_BYTES} bytes; type sniffed from the bytes)."
                ),
                "security": [{"bearer": []}],
                "parameters": [_REPORT_ID, idempotency],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["files"],
                                "additionalProperties": False,
                                "properties": {
                                    "files": {
                                        "type": "array",
                                        "items": {"type": "string", "format": "binary"},
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "Stored; hashed and matched in the background",
                        **_OBJECT,
                    },
                    "400": {"description": "A file or field refused", **_json(_ERRORS)},
                    **_refusals("reports"),
                    "404": {"description": "Not one of your reports (or no such id)", **_OBJECT},
                    "410": {"description": "The report was erased", **_OBJECT},
                    "413": {"description": "Too large", **_json(_ERRORS)},
                    "415": {"description": "Not multipart/form-data", **_json(_ERRORS)},
                },
            }
        },
        "/api/v1/banks/{name}/changes": {
            "get": {
                "summary": "A shared bank's changes after a cursor (partners, scope 'hashes')",
                "description": (
                    "Entries added, changed or removed after `cursor`, oldest first; each entry "
                    "once, in its current state. Apply the page, store `next_cursor`, and ask "
                    "again while `more` is true. A cursor never skips a change, even while the "
                    "bank is being imported into."
                ),
                "security": [{"bearer": []}],
                "parameters": [
                    _BANK,
                    {
                        "name": "cursor",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_CURSOR},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "A page of changes",
                        **_json(
                            {
                                "type": "object",
                                "required": ["bank", "changes", "next_cursor", "more"],
                                "properties": {
                                    "bank": {"type": "string"},
                                    "changes": {"type": "array", "items": change},
                                    "next_cursor": {"type": "string", "pattern": "^[0-9]+$"},
                                    "more": {"type": "boolean"},
                                },
                            }
                        ),
                    },
                    "400": {"description": "A bad cursor or limit", **_json(_ERRORS)},
                    **_refusals("hashes"),
                    "404": {"description": "No shared bank has this name", **_OBJECT},
                },
            }
        },
        "/api/v1/banks/{name}/vics": {
            "get": {
                "summary": "A shared bank's active entries as VICS JSON 2.0",
                "security": [{"bearer": []}],
                "parameters": [_BANK],
                "responses": {
                    "200": {"description": "The bank as a VICS document", **_OBJECT},
                    **_refusals("hashes"),
                    "404": {"description": "No shared bank has this name", **_OBJECT},
                },
            }
        },
    }
