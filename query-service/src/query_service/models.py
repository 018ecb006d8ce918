"""Response models of the read API, for validation in tests and examples in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class UserStatus(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "12345",
                    "status": "completed",
                    "event_id": "4f1c2b9e-8a5d-4d7e-9c1a-2b3c4d5e6f70",
                    "accepted_at": "2024-01-10T09:30:00.123456Z",
                    "completed_at": "2024-01-10T09:30:01.200Z",
                    "error": None,
                },
                {
                    "id": "67890",
                    "status": "failed",
                    "event_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "accepted_at": "2024-01-10T09:31:00Z",
                    "completed_at": "2024-01-10T09:31:42.500Z",
                    "error": "okta_user_not_found: no Okta user with that email",
                },
            ]
        },
    )

    id: str
    status: Literal["pending", "completed", "failed"]
    event_id: str | None
    accepted_at: datetime | None
    completed_at: datetime | None
    error: str | None


class Problem(BaseModel):
    """Every refusal's body."""

    detail: str


def detail_example(detail: str) -> dict[str, object]:
    return {"application/json": {"example": {"detail": detail}}}
