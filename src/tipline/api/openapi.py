"""OpenAPI 3.1 description of the API, generated from the form definitions and view constants.

Generating it from ReportForm keeps the schema and the validation from drifting apart.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings

from tipline.api import openapi_partner
from tipline.api.match import MAX_QUERIES
from tipline.cases import categories
from tipline.matching import matcher
from tipline.matching.models import HEX_LENGTH, HashKind
from tipline.web.report_forms import ReportForm


def _field_schema(name: str, field: forms.Field) -> dict[str, Any]:
    description = " ".join(str(x) for x in (field.label, field.help_text) if x)
    if name in ReportForm.LIST_FIELDS:
        return {
            "description": description
            + " (a list of strings, or one string with one item per line)",
            "oneOf": [
                {"type": "array", "items": {"type": "string"}, "maxItems": 50},
                {"type": "string"},
            ],
        }
    schema: dict[str, Any] = {"type": "string", "description": description}
    if isinstance(field, forms.ChoiceField):
        schema["enum"] = [
            str(value) for value, _label in cast(list[tuple[str, Any]], field.choices)
        ]
        if field.initial:
            schema["default"] = field.initial
    max_length = getattr(field, "max_length", None)
    if max_length:
        schema["maxLength"] = max_length
    if field.required:
        schema["minLength"] = 1
    return schema


def _report_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {
        "category": {"type": "string", "enum": list(categories.CODES)},
        "language": {"type": "string", "enum": [code for code, _n in settings.LANGUAGES]},
    }
    required = ["category"]
    for name, field in ReportForm.base_fields.items():
        if name in ("attachments", "submission"):
            continue
        properties[name] = _field_schema(name, field)
        if field.required:
            required.append(name)
    per_category = {
        c.code: {"extra_fields": list(c.extra_fields), "files": c.allows_files}
        for c in categories.CATEGORIES
    }
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        # Abuse material is reported by where it is: at least one URL.
        "allOf": [
            {
                "if": {"properties": {"category": {"const": "csam"}}, "required": ["category"]},
                "then": {"required": ["urls"]},
            }
        ],
        "description": (
            "Category-specific fields are accepted only for their category: "
            f"{per_category}. For csam, urls is required and victim_name is not accepted. "
            "To attach files, send the same fields as multipart/form-data with repeated "
            "'attachments' parts."
        ),
    }


_ERRORS = {
    "type": "object",
    "properties": {
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
    },
}
_RECEIPT = {
    "type": "object",
    "required": ["receipt"],
    "properties": {"receipt": {"type": "string", "example": "7KQ2-M9XF-TR2B-8HZP"}},
}
_NOT_FOUND = {
    "description": "Unknown, malformed or wrong receipt (all answered the same way).",
    "content": {"application/json": {"schema": {"type": "object"}}},
}
_THROTTLED = {"description": "Too many failed receipt look-ups on this site in the last minute."}
# Disk full, object store or database unreachable (tipline.web.unavailable): nothing was stored,
# the same request (with the same Idempotency-Key) can be sent again after Retry-After seconds.
_UNAVAILABLE = {
    "description": (
        "Tipline cannot store what was sent just now (disk full, object store unreachable, "
        "database restarting). "
        "Nothing was stored and nothing acknowledged; send the same request again after the "
        'Retry-After header\'s seconds. The body is {"error": "storage_unavailable", '
        '"message": ...}.'
    ),
    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {
                    "error": {"const": "storage_unavailable"},
                    "message": {"type": "string"},
                },
            }
        }
    },
}


_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "A random string (16-128 of A-Z a-z 0-9 - _) chosen by the app for this submission. "
        "Retrying with the same key within 24 hours returns the first answer (the same receipt, "
        "with the header Idempotent-Replayed: true) instead of filing twice."
    ),
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,128}$"},
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _match_operation() -> dict[str, Any]:
    """POST /api/v1/match, described from the same constants the view checks."""
    radius = matcher.radius()
    max_distance = {
        "type": "integer",
        "minimum": 0,
        "maximum": radius,
        "default": radius,
        "description": "Largest PDQ Hamming distance to report (exact hashes always match at 0).",
    }
    hash_item = {
        "oneOf": [
            {
                "type": "object",
                "required": ["type", "value"],
                "additionalProperties": False,
                "properties": {
                    "type": {"const": kind.value},
                    "value": {"type": "string", "pattern": f"^[0-9A-Fa-f]{{{length}}}$"},
                },
            }
            for kind, length in HEX_LENGTH.items()
        ]
    }
    found = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["bank", "entry", "type", "classification", "distance"],
            "properties": {
                "bank": {"type": "string"},
                "entry": {"type": "integer"},
                "type": {"type": "string", "enum": list(HashKind.values)},
                "classification": {"type": "string"},
                "distance": {"type": "integer", "minimum": 0, "maximum": radius},
            },
        },
    }
    by_hashes = {
        "type": "object",
        "required": ["results"],
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "value", "matches"],
                    "properties": {
                        "type": {"type": "string"},
                        "value": {"type": "string"},
                        "matches": found,
                    },
                },
            }
        },
    }
    nullable_string = {"type": ["string", "null"]}
    by_file = {
        "type": "object",
        "required": ["file", "matches"],
        "properties": {
            "file": {
                "type": "object",
                "properties": {
                    "size": {"type": "integer"},
                    "kind": {"type": "string"},
                    "sha256": {"type": "string"},
                    "md5": {"type": "string"},
                    "sha1": {"type": "string"},
                    "pdq": nullable_string,
                    "pdq_quality": {"type": ["integer", "null"]},
                    "pdq_refused": nullable_string,
                },
            },
            "matches": found,
        },
    }
    refusal = {"content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "post": {
            "summary": "Look hashes or a file up in the hash banks (staff and partners)",
            "description": (
                f"Send up to {MAX_QUERIES} hashes as JSON, or one file as multipart/form-data "
                f"(part 'file', at most {settings.TIPLINE_MAX_FILE_BYTES} bytes; hashed in "
                "memory, never stored). Every look-up is audited (counts, not hash values). "
                "Needs a token with the 'match' scope."
            ),
            "security": [{"bearer": ["match"]}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["hashes"],
                            "additionalProperties": False,
                            "properties": {
                                "hashes": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": MAX_QUERIES,
                                    "items": hash_item,
                                },
                                "max_distance": max_distance,
                            },
                        }
                    },
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "additionalProperties": False,
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "max_distance": max_distance,
                            },
                        }
                    },
                },
            },
            "responses": {
                "200": {
                    "description": "Matches per hash, or the file's hashes and its matches",
                    **_json({"oneOf": [by_hashes, by_file]}),
                },
                "400": {"description": "Validation errors per field", **_json(_ERRORS)},
                "401": {
                    "description": "Missing, malformed, unknown or revoked token (all alike)",
                    **refusal,
                },
                "403": {"description": "The token lacks the 'match' scope", **refusal},
                "413": {"description": "Body or file too large", **_json(_ERRORS)},
                "415": {"description": "Not JSON or multipart", **_json(_ERRORS)},
                "429": {"description": "This token's look-ups per minute are used up", **refusal},
            },
        }
    }


def schema() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tipline anonymous reporting API",
            "version": "1",
            "description": (
                "For mobile apps. No authentication, no cookies, no client address recorded. "
                "The receipt returned on submission is the only key to the report: it is shown "
                "once and stored only as a keyed hash. The exceptions, /api/v1/match and the "
                "partner routes (/api/v1/partner/..., /api/v1/banks/..., "
                "/api/v1/exchange/inbound), are for staff and partners and need a bearer "
                "token with the route's scope (named in each operation's security requirement)."
            ),
        },
        "paths": {
            "/api/v1/reports": {
                "post": {
                    "summary": "Submit a report",
                    "parameters": [_IDEMPOTENCY],
                    "requestBody": {"required": True, **_json(_report_schema())},
                    "responses": {
                        "201": {"description": "Stored and committed", **_json(_RECEIPT)},
                        "400": {"description": "Validation errors per field", **_json(_ERRORS)},
                        "413": {"description": "Body or file too large", **_json(_ERRORS)},
                        "415": {"description": "Not JSON or multipart", **_json(_ERRORS)},
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/api/v1/followup/status": {
                "post": {
                    "summary": "Status and messages of a report",
                    "requestBody": {"required": True, **_json(_RECEIPT)},
                    "responses": {
                        "200": {
                            "description": "Coarse status and the message thread",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "status": {
                                            "type": "string",
                                            "enum": [
                                                "received",
                                                "in_review",
                                                "action_taken",
                                                "closed",
                                            ],
                                        },
                                        "category": {"type": "string"},
                                        "created_at": {"type": "string", "format": "date-time"},
                                        "messages": {"type": "array", "items": {"type": "object"}},
                                    },
                                }
                            ),
                        },
                        "404": _NOT_FOUND,
                        "429": _THROTTLED,
                    },
                }
            },
            "/api/v1/followup/messages": {
                "post": {
                    "summary": "Send a message to the hotline",
                    "parameters": [_IDEMPOTENCY],
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["receipt", "body"],
                                "properties": {
                                    "receipt": {"type": "string"},
                                    "body": {"type": "string", "maxLength": 10000},
                                },
                            }
                        ),
                    },
                    "responses": {
                        "201": {"description": "Sent"},
                        "400": {"description": "Validation errors", **_json(_ERRORS)},
                        "404": _NOT_FOUND,
                        "410": {
                            "description": "The report's details were erased under the "
                            "retention policy; nothing can be added to it.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "429": _THROTTLED,
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/api/v1/match": _match_operation(),
            **openapi_partner.paths(_report_schema(), _IDEMPOTENCY),
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (tl_...) from `tipline credentials create` "
                    "(`tipline hotlines add` for a partner hotline's 'exchange' token). Each "
                    "operation's security requirement lists the scope it needs.",
                }
            }
        },
    }
