"""What `/openapi.json` says about the webhooks: body, headers, and every answer with examples.

The route reads the raw body itself (the signature covers the exact bytes, and the size
limit applies before parsing), so the request side is described here by hand.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Security
from fastapi.security import APIKeyHeader
from onboarding_events import HR_RECORD_EXAMPLE, HrUser
from onboarding_runtime.intake import ErrorReason, InvalidRequest
from pydantic import BaseModel, ConfigDict, Field

from ingest_service.intake import MAX_BATCH_RECORDS

SEED_EXAMPLE = HR_RECORD_EXAMPLE


class Accepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "accepted",
                    "message": "User enrichment queued for background processing",
                    "employee_id": "12345",
                    "email": "jane.doe@example.com",
                    "event_id": "2b1f3c8e-6a44-5d7f-9a0b-4c1e2d3f4a5b",
                }
            ]
        }
    )

    status: str = "accepted"
    message: str = "User enrichment queued for background processing"
    employee_id: str
    email: str
    event_id: str = Field(description="The CloudEvent id; the same for a repeated delivery")


class Problem(BaseModel):
    detail: str


class RecordAccepted(BaseModel):
    status: Literal[202]
    event_id: str = Field(description="The CloudEvent id; the same for a repeated batch")
    employee_id: str


class RecordInvalid(BaseModel):
    status: Literal[422]
    errors: list[ErrorReason] = Field(description="What the single webhook says of the record")


class RecordUnavailable(BaseModel):
    status: Literal[503]


class BatchResults(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "status": 202,
                            "event_id": "2b1f3c8e-6a44-5d7f-9a0b-4c1e2d3f4a5b",
                            "employee_id": "12345",
                        },
                        {
                            "status": 422,
                            "errors": [
                                {
                                    "loc": ["body", "email"],
                                    "msg": "Field required",
                                    "type": "missing",
                                }
                            ],
                        },
                        {"status": 503},
                    ]
                }
            ]
        }
    )

    results: list[RecordAccepted | RecordInvalid | RecordUnavailable] = Field(
        description="One per record, in the batch's order"
    )


def _header(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


_RETRY_AFTER = {
    "description": "Seconds to wait before retrying",
    "schema": {"type": "integer", "minimum": 1},
}


def _problem(description: str, example: str, *, retry: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "model": Problem,
        "content": {"application/json": {"example": {"detail": example}}},
    }
    if retry:
        response["headers"] = {"Retry-After": _RETRY_AFTER}
    return response


def _invalid(description: str, reasons: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "description": description,
        "model": InvalidRequest,
        "content": {"application/json": {"example": {"detail": reasons}}},
    }


# The webhook's credentials as OpenAPI security schemes, so `/docs` can send them: either
# works (both, when both are configured). Declared only: the webhook checks them itself
# (`auth.py`, `signatures.py`), before the body is parsed.
WEBHOOK_SECURITY = [
    Security(
        APIKeyHeader(
            name="X-API-Key",
            scheme_name="webhookApiKey",
            description="The webhook API key, when `API_KEY` is configured",
            auto_error=False,
        )
    ),
    Security(
        APIKeyHeader(
            name="webhook-signature",
            scheme_name="webhookSignature",
            description="Standard Webhooks: `v1,<base64 HMAC-SHA256>` of "
            "`webhook-id.webhook-timestamp.body` with `WEBHOOK_SECRET`, when it is configured",
            auto_error=False,
        )
    ),
]

WEBHOOK_OPENAPI: dict[str, Any] = {
    "parameters": [
        _header("webhook-id", "Standard Webhooks delivery id; also the idempotency key"),
        _header("webhook-timestamp", "Standard Webhooks: seconds since the epoch, ±5 min"),
        _header("Idempotency-Key", "Delivery id when `webhook-id` is not sent", maxLength=255),
        _header("traceparent", "W3C trace context; continued into the Kafka event"),
    ],
    "requestBody": {
        "required": True,
        "description": "One HR record, at most 64 KiB; unknown fields are ignored",
        "content": {
            "application/json": {
                "schema": HrUser.model_json_schema(),
                "example": SEED_EXAMPLE,
            }
        },
    },
}

WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Durably written to Kafka; enrichment follows"},
    401: _problem(
        "Missing or wrong API key or signature (when configured)", "missing or wrong X-API-Key"
    ),
    413: _problem("Body over 64 KiB", "Request body is larger than 64 KiB"),
    415: _problem("Not JSON", "Content-Type must be application/json"),
    422: _invalid(
        "Invalid JSON or fields, or a delivery id of the wrong length, with every reason",
        [
            {
                "loc": ["body", "email"],
                "msg": "value is not a valid email address",
                "type": "value_error",
            },
            {"loc": ["body", "first_name"], "msg": "Field required", "type": "missing"},
        ],
    ),
    429: _problem("Over the rate limit", "Too many requests", retry=True),
    503: _problem(
        "Kafka did not acknowledge in time, or (for a delivery id) the deliveries accepted "
        "are still loading; retry after `Retry-After` seconds",
        "Event store unavailable, retry later",
        retry=True,
    ),
}


BATCH_OPENAPI: dict[str, Any] = {
    "parameters": [
        _header(
            "webhook-id",
            "Standard Webhooks delivery id of the batch; record n (from 0) is delivered as "
            "`{webhook-id}#n`",
        ),
        _header("webhook-timestamp", "Standard Webhooks: seconds since the epoch, ±5 min"),
        _header("Idempotency-Key", "Delivery id when `webhook-id` is not sent", maxLength=255),
        _header("traceparent", "W3C trace context; continued into every Kafka event"),
    ],
    "requestBody": {
        "required": True,
        "description": f"1 to {MAX_BATCH_RECORDS:,} HR records, at most 8 MiB: a JSON array, "
        "or NDJSON (one record per line, blank lines skipped)",
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": HrUser.model_json_schema(),
                    "minItems": 1,
                    "maxItems": MAX_BATCH_RECORDS,
                },
                "example": [SEED_EXAMPLE],
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One HR record (JSON) per line"},
                "example": "\n".join(
                    f'{{"employee_id": "{n}", "first_name": "Jane", "last_name": "Doe", '
                    f'"email": "jane.doe{n}@example.com"}}'
                    for n in (12345, 12346)
                ),
            },
        },
    },
}

BATCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    207: {
        "description": "One result per record, in order: `202` written to Kafka (acknowledged "
        "before this answer), `422` invalid (the single webhook's reasons), `503` not written "
        "because Kafka did not acknowledge in time; then `Retry-After` says when to send the "
        "batch again (the records written are not written twice)",
        "headers": {"Retry-After": {**_RETRY_AFTER, "required": False}},
    },
    401: WEBHOOK_RESPONSES[401],
    413: _problem(
        f"Body over 8 MiB, or more than {MAX_BATCH_RECORDS:,} records",
        f"A batch holds at most {MAX_BATCH_RECORDS:,} records",
    ),
    415: _problem(
        "Neither JSON nor NDJSON", "Content-Type must be application/json or application/x-ndjson"
    ),
    422: _invalid(
        "The body is not a JSON array (invalid JSON, or another value), holds no record, or "
        "the delivery id is of the wrong length; invalid records are answered in the `207`",
        [{"loc": ["body"], "msg": "Input should be a valid array", "type": "list_type"}],
    ),
    429: _problem(
        "Over the rate limit, which counts records: nothing of the batch was taken",
        "Too many requests",
        retry=True,
    ),
    503: _problem(
        "The deliveries accepted are still loading (a batch with a delivery id); nothing of "
        "the batch was taken; retry after `Retry-After` seconds",
        "Event store unavailable, retry later",
        retry=True,
    ),
}
