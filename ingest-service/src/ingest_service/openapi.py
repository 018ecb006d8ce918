"""What `/openapi.json` says about the webhook: body, headers, and every answer with examples.

The route reads the raw body itself (the signature covers the exact bytes, and the size
limit applies before parsing), so the request side is described here by hand.
"""

from __future__ import annotations

from typing import Any

from fastapi import Security
from fastapi.security import APIKeyHeader
from onboarding_events import HR_RECORD_EXAMPLE, HrUser
from onboarding_runtime.intake import InvalidRequest
from pydantic import BaseModel, ConfigDict, Field

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


def _header(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


def _problem(description: str, example: str, *, retry: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "model": Problem,
        "content": {"application/json": {"example": {"detail": example}}},
    }
    if retry:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return response


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
    422: {
        "description": "Invalid JSON or fields, or a delivery id of the wrong length, with "
        "every reason",
        "model": InvalidRequest,
        "content": {
            "application/json": {
                "example": {
                    "detail": [
                        {
                            "loc": ["body", "email"],
                            "msg": "value is not a valid email address",
                            "type": "value_error",
                        },
                        {"loc": ["body", "first_name"], "msg": "Field required", "type": "missing"},
                    ]
                }
            }
        },
    },
    429: _problem("Over the rate limit", "Too many requests", retry=True),
    503: _problem(
        "Kafka did not acknowledge in time, or (for a delivery id) the deliveries accepted "
        "are still loading; retry after `Retry-After` seconds",
        "Event store unavailable, retry later",
        retry=True,
    ),
}
