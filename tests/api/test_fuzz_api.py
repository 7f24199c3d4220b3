"""Property-based fuzzing of the API against its own OpenAPI description.

Schemathesis generates valid and invalid bodies from /api/v1/openapi.json and sends them to a
real server; every answer must be documented, well-formed and never a server error. Its strings
are valid UTF-8, so a second pass plants lone surrogates (``"\ud800"``, which JSON can escape
but which are not text) in the generated bodies: each must be a 400 naming the field.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import positive_data_acceptance

from tests.live import TIPLINE, LiveServer
from tipline.api.openapi import schema as openapi_schema


def test_the_openapi_description_is_valid_openapi_3_1() -> None:
    validate(openapi_schema())


def _operations_and_headers(server: LiveServer) -> tuple[list[Any], dict[str, dict[str, str]]]:
    """The operations, and the headers to send to each (by path)."""
    # Driven with plain Hypothesis: schemathesis' pytest plugin does not support pytest 9 yet.
    api = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 10
    # /api/v1/match and the partner routes need a bearer token: a real one from the CLI with
    # every scope, so the fuzzing reaches the parsers (schemathesis also checks that a request
    # without it gets 401).
    create = ["credentials", "create", "--name", "fuzz", "--kind", "partner"]
    create += ["--scope", "match", "--scope", "reports", "--scope", "hashes"]
    created = subprocess.run(
        [*TIPLINE, *create], env=server.env(), capture_output=True, text=True, check=True
    )
    token = {"Authorization": "Bearer " + created.stdout.splitlines()[-1]}
    # /api/v1/exchange/inbound: the token issued to a configured partner hotline, so that the
    # requests pass the credential and reach the signature check and the document parser.
    added = subprocess.run(
        [*TIPLINE, "hotlines", "add", f"fuzz-{uuid.uuid4().hex[:8]}", "--url", "https://hotline.example.fr",
         "--public-key", "11" * 32],
        env=server.env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    hotline = {"Authorization": "Bearer " + added.stdout.rsplit("(shown once): ", 1)[1].strip()}
    headers = {op.path: hotline if op.path == "/api/v1/exchange/inbound" else token
               for op in operations}  # fmt: skip
    return operations, headers


@pytest.mark.server
def test_api_answers_every_generated_request_as_documented(
    live_server_process: LiveServer,
) -> None:
    operations, headers = _operations_and_headers(live_server_process)
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def call(case: schemathesis.Case) -> None:
            # Every check except "schema-valid data must be accepted": the form also checks what
            # JSON Schema cannot say (URL, e-mail and phone syntax, whitespace-only text, contact
            # details matching the contact choice), and those refusals are correct 400s.
            sent = headers[operation.path]  # noqa: B023 - called right away, in this iteration
            case.call_and_validate(headers=sent, excluded_checks=[positive_data_acceptance])

        call()


# Text with at least one lone surrogate among ordinary characters.
_SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
_WITH_SURROGATE = st.tuples(st.text(max_size=5), _SURROGATE, st.text(max_size=5)).map("".join)


def _plant(value: Any, choose: Any, path: str = "") -> tuple[Any, list[str]]:
    """A copy of ``value`` with some strings (or keys) replaced by text holding a surrogate."""
    if isinstance(value, str):
        return (choose(_WITH_SURROGATE), [path]) if choose(st.booleans()) else (value, [])
    planted: list[str] = []
    if isinstance(value, dict):
        copy = {}
        for key, item in value.items():
            new, paths = _plant(item, choose, f"{path}.{key}" if path else key)
            copy[key] = new
            planted += paths
        return copy, planted
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            new, paths = _plant(item, choose, f"{path}.{index}")
            items.append(new)
            planted += paths
        return items, planted
    return value, []


@pytest.mark.server
def test_lone_surrogates_anywhere_in_a_json_body_are_a_400_naming_the_field(
    live_server_process: LiveServer,
) -> None:
    operations, headers = _operations_and_headers(live_server_process)
    for operation in operations:
        if operation.method.upper() != "POST" or operation.path == "/api/v1/exchange/inbound":
            # The exchange route checks the body's signature before it parses anything, so a
            # generated (unsigned) body never reaches the fields; tests/exchange signs theirs.
            continue

        @given(case=operation.as_strategy(), data=st.data())
        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def call(case: schemathesis.Case, data: st.DataObject) -> None:
            if not isinstance(case.body, dict) or case.media_type != "application/json":
                return
            # Sent by hand: schemathesis validates its bodies as UTF-8 and would stop here.
            sent = headers[operation.path]  # noqa: B023 - called right away, in this iteration
            request = case.as_transport_kwargs(headers=sent)
            body, planted = _plant(case.body, data.draw)
            response = httpx.request(
                request["method"],
                request["url"],
                headers={**sent, "Content-Type": "application/json"},
                content=json.dumps(body).encode(),  # ensure_ascii: "\\ud800" escapes
                timeout=30,
            )
            assert response.status_code < 500, response.text
            if planted and response.status_code not in (401, 403, 415, 429):
                assert response.status_code == 400, (planted, response.text)
                named = set(response.json()["errors"])
                # Compared on their first 40 characters: long paths may be shortened in the
                # answer (a generated key of 39 zeros and ".0" was named in full once).
                assert {n[:40] for n in named} & {p[:40] for p in planted}, (planted, named)

        call()
