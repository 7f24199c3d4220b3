"""OpenAPI paths of the partner routes (bulk reports, status, files; bank changes and VICS;
the hotline exchange's inbound route), described from the constants the views check. Kept
apart from ``openapi.py`` to keep each small.

Each operation's ``security`` names the scope its token needs (``{"bearer": ["reports"]}``):
OpenAPI 3.1 lets a non-OAuth scheme list the roles an operation requires.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from tipline.api.banks import COMPACT_VERSION, FORMATS, MAX_CURSOR, MAX_PAGE
from tipline.exchange import document
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


# A group of the compact page form (``format=compact``): plain changes sharing op, kind and
# classification, their values in one array.
_CHANGE_GROUP = {
    "type": "object",
    "required": ["op", "type", "classification", "values"],
    "properties": {
        "op": {"type": "string", "enum": ["add", "remove"]},
        "type": {"type": "string", "enum": list(HashKind.values)},
        "classification": {"type": "string", "enum": list(CLASSIFICATIONS)},
        "values": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]+$"}},
    },
}


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


def _bearer(scope: str) -> list[dict[str, list[str]]]:
    return [{"bearer": [scope]}]


def _exchange_inbound() -> dict[str, Any]:
    body = {k: v for k, v in document.schema().items() if k not in ("$schema", "$id")}
    refused = {
        "type": "object",
        "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    }
    return {
        "post": {
            "summary": "A partner hotline forwards a report or an outcome (scope 'exchange')",
            "description": (
                "Mutual credentials: the bearer token this hotline issued to the partner "
                "(scope 'exchange', bound to that partner) and an Ed25519 signature of the exact "
                f"body bytes in {document.SIGNATURE_HEADER}, made with the key configured for "
                "that partner; the signature is checked before the body is parsed. The body is a "
                "tipline-exchange version 1 document (docs/exchange.md). A report naming a URL "
                "or hash of an open report is linked to it, not filed again."
            ),
            "security": _bearer("exchange"),
            "parameters": [
                {
                    "name": document.SIGNATURE_HEADER,
                    "in": "header",
                    "required": True,
                    "description": "keyid=<16 hex>,ed25519=<base64 signature of the body>",
                    "schema": {"type": "string"},
                }
            ],
            "requestBody": {"required": True, **_json(body)},
            "responses": {
                "200": {
                    "description": "Filed, linked, already known, or an outcome recorded",
                    **_json(
                        {
                            "type": "object",
                            "required": ["reference", "status"],
                            "properties": {
                                "reference": {"type": "string"},
                                "status": {
                                    "type": "string",
                                    "enum": ["filed", "linked", "already", "outcome"],
                                },
                            },
                        }
                    ),
                },
                "400": {
                    "description": "Unsigned, a bad signature, or not a valid document",
                    **_json(refused),
                },
                "401": {
                    "description": "Missing, malformed, unknown or revoked token (all alike)",
                    **_json(refused),
                },
                "403": {
                    "description": "The token lacks the 'exchange' scope or is no partner "
                    "hotline's",
                    **_json(refused),
                },
                "413": {
                    "description": f"Body over {document.MAX_BODY} bytes",
                    **_json(refused),
                },
                "415": {"description": "Not application/json", **_json(refused)},
            },
        }
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
            "quality": {
                "type": ["integer", "null"],
                "description": "PDQ quality 0-100; left out when not known.",
            },
            "metadata": {"type": "object", "description": "Left out when empty."},
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
                "security": _bearer("reports"),
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
                "security": _bearer("reports"),
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
                "security": _bearer("reports"),
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
                    "bank is being imported into. `format=compact` (version `compact/1`) gives "
                    "the same changes with those without quality or metadata grouped by "
                    "operation, kind and classification, their values in one array (`groups`); "
                    "the rest stay in full form in `changes`. The JSON form is the default."
                ),
                "security": _bearer("hashes"),
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
                    {
                        "name": "format",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": list(FORMATS), "default": "json"},
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
                                    "format": {"type": "string", "enum": [COMPACT_VERSION]},
                                    "groups": {"type": "array", "items": _CHANGE_GROUP},
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
        "/api/v1/exchange/inbound": _exchange_inbound(),
        "/api/v1/banks/{name}/vics": {
            "get": {
                "summary": "A shared bank's active entries as VICS JSON 2.0",
                "security": _bearer("hashes"),
                "parameters": [_BANK],
                "responses": {
                    "200": {"description": "The bank as a VICS document", **_OBJECT},
                    **_refusals("hashes"),
                    "404": {"description": "No shared bank has this name", **_OBJECT},
                },
            }
        },
    }
