"""What `/openapi.json` says about the preview: its body, its key, and every answer.

The route reads the raw body itself (bounded before it is parsed, refused with the reasons
ingest's webhook gives: `onboarding_runtime.intake`), so the request side is described
here by hand.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Security
from fastapi.security import APIKeyHeader
from onboarding_events import HR_RECORD_EXAMPLE, EnrichedUser, HrUser
from onboarding_runtime.intake import InvalidRequest
from pydantic import BaseModel, ConfigDict, Field

_JANE = EnrichedUser.model_json_schema()["examples"][0]


class Preview(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"user": _JANE, "status": "completed", "reason": None, "message": None},
                {
                    "user": None,
                    "status": "pending",
                    "reason": "okta_user_not_found",
                    "message": "no Okta user with this email yet: enrichment would look "
                    "again after 10 s, 60 s, 600 s, 3600 s, 86400 s (then every 86400 s) "
                    "for 259200 s, then dead-letter the event",
                },
            ]
        }
    )

    user: EnrichedUser | None = Field(
        description="The user exactly as `GET /v1/users/{id}` would serve them once this "
        "record is enriched; `null` unless `status` is `completed`"
    )
    status: Literal["completed", "pending", "scheduled", "failed"] = Field(
        description="What `GET /v1/users/{id}/status` would say: `completed` (enriched), "
        "`pending` (enrichment would wait and try again), `scheduled` (not in Okta yet "
        "and the start date is ahead: looked up again on the retry schedule until the "
        "start date plus a grace period), `failed` (dead-lettered at once)"
    )
    reason: str | None = Field(
        description="Why not `completed`: the code enrichment would record (the status "
        "view's `error` starts with it), e.g. `okta_user_not_found`; `null` when completed"
    )
    message: str | None = Field(description="The reason in words; `null` when completed")


class Problem(BaseModel):
    detail: str


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


# The webhook's key as an OpenAPI security scheme, so `/docs` can send it. Declared only:
# the route checks it itself (`preview.py`), before the body is read.
PREVIEW_SECURITY = [
    Security(
        APIKeyHeader(
            name="X-API-Key",
            scheme_name="webhookApiKey",
            description="The webhook's API key (`API_KEY`, the same as ingest's), when it is "
            "configured",
            auto_error=False,
        )
    )
]

PREVIEW_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One HR record, as the webhook takes it: at most 64 KiB; unknown "
        "fields are ignored",
        "content": {
            "application/json": {"schema": HrUser.model_json_schema(), "example": HR_RECORD_EXAMPLE}
        },
    },
}

PREVIEW_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "What enriching the record would give now; nothing was published"},
    401: _problem("Missing or wrong API key (when configured)", "missing or wrong X-API-Key"),
    404: _problem(
        "The preview is off: production without `API_KEY`", "preview disabled: API_KEY is not set"
    ),
    413: _problem("Body over 64 KiB", "Request body is larger than 64 KiB"),
    415: _problem("Not JSON", "Content-Type must be application/json"),
    422: {
        "description": "Invalid JSON or fields, with every reason (as the webhook gives them)",
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
    429: _problem(
        "Enrichment comes first: as many previews as `ENRICH_PREVIEW_CONCURRENCY` are being "
        "answered, or Okta's rate-limit budget is short (under `ENRICH_PREVIEW_RESERVE` of "
        "an operation's limit left in its window); retry after `Retry-After` seconds",
        "Too many previews at once, retry later",
        retry=True,
    ),
    503: _problem(
        "Okta is down or refuses the service's token (or enrichment has paused for it); "
        "retry after `Retry-After` seconds",
        "Okta unavailable, retry later",
        retry=True,
    ),
}
