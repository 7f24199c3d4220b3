"""Property-based fuzzing of the API against its own OpenAPI description.

Schemathesis generates valid and invalid bodies from /api/v1/openapi.json and sends them to a
real server; every answer must be documented, well-formed and never a server error.
"""

from __future__ import annotations

import subprocess

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import positive_data_acceptance

from tests.live import TIPLINE, LiveServer
from tipline.api.openapi import schema as openapi_schema


def test_the_openapi_description_is_valid_openapi_3_1() -> None:
    validate(openapi_schema())


@pytest.mark.server
def test_api_answers_every_generated_request_as_documented(
    live_server_process: LiveServer,
) -> None:
    # Driven with plain Hypothesis: schemathesis' pytest plugin does not support pytest 9 yet.
    api = schemathesis.openapi.from_url(live_server_process.url + "/api/v1/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 4
    # /api/v1/match needs a bearer token: a real one from the CLI, so the fuzzing reaches the
    # parser and the matcher (schemathesis also checks that a request without it gets 401).
    create = ["credentials", "create", "--name", "fuzz", "--kind", "partner", "--scope", "match"]
    created = subprocess.run(
        [*TIPLINE, *create],
        env=live_server_process.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    headers = {"Authorization": "Bearer " + created.stdout.splitlines()[-1]}
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
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        call()
