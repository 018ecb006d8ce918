"""The OpenAPI schema is complete, and schemathesis finds no request that makes a server error.

A unit test of the HTTP surface: the events go to an in-memory sink (a fake at the
`EventSink` port) so that thousands of generated requests need no broker.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from ingest_service.app import create_app
from ingest_support import SEED, MemorySink, loaded_index, make_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)


def _app() -> FastAPI:
    return create_app(make_settings(), sink=MemorySink(), deliveries=loaded_index())


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def test_no_generated_request_makes_a_server_error() -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", _app())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {"/v1/hr/webhook", "/v1/hr/webhooks:batch"} <= {op.path for op in operations}
    for operation in operations:

        @given(operation.as_strategy())
        @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        call()


def test_the_webhook_is_documented_with_the_seed_example_and_every_answer() -> None:
    spec = _app().openapi()
    webhook = spec["paths"]["/v1/hr/webhook"]["post"]

    body = webhook["requestBody"]["content"]["application/json"]
    assert body["example"] == SEED
    assert set(body["schema"]["required"]) == {"employee_id", "first_name", "last_name", "email"}
    assert set(webhook["responses"]) == {"202", "401", "413", "415", "422", "429", "503"}
    for status in ("429", "503"):
        assert "Retry-After" in webhook["responses"][status]["headers"]
    headers = {p["name"] for p in webhook["parameters"]}
    assert {"webhook-id", "webhook-timestamp", "Idempotency-Key"} <= headers


def test_the_batch_is_documented_as_json_or_ndjson_with_every_answer() -> None:
    spec = _app().openapi()
    batch = spec["paths"]["/v1/hr/webhooks:batch"]["post"]

    content = batch["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-ndjson"}
    array = content["application/json"]["schema"]
    assert (array["type"], array["minItems"], array["maxItems"]) == ("array", 1, 1000)
    assert array["items"]["required"] == webhook_body_required(spec)
    assert set(batch["responses"]) == {"207", "401", "413", "415", "422", "429", "503"}
    for status in ("207", "429", "503"):
        assert "Retry-After" in batch["responses"][status]["headers"]
    assert batch["security"] == spec["paths"]["/v1/hr/webhook"]["post"]["security"]


def webhook_body_required(spec: dict[str, Any]) -> list[str]:
    webhook = spec["paths"]["/v1/hr/webhook"]["post"]
    required: list[str] = webhook["requestBody"]["content"]["application/json"]["schema"][
        "required"
    ]
    return required


def test_the_webhooks_credentials_are_security_schemes_docs_can_send() -> None:
    spec = _app().openapi()
    schemes = spec["components"]["securitySchemes"]

    assert {name: (s["type"], s["in"], s["name"]) for name, s in schemes.items()} == {
        "webhookApiKey": ("apiKey", "header", "X-API-Key"),
        "webhookSignature": ("apiKey", "header", "webhook-signature"),
    }
    # Either one: the operation's requirements are alternatives.
    assert spec["paths"]["/v1/hr/webhook"]["post"]["security"] == [
        {"webhookApiKey": []},
        {"webhookSignature": []},
    ]
