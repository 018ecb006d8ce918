"""Response models of the read API, for validation in tests and examples in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
                    "next_check_at": None,
                },
                {
                    "id": "67890",
                    "status": "failed",
                    "event_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "accepted_at": "2024-01-10T09:31:00Z",
                    "completed_at": "2024-01-10T09:31:42.500Z",
                    "error": "okta_user_not_found: no Okta user with that email",
                    "next_check_at": None,
                },
                {
                    "id": "24680",
                    "status": "scheduled",
                    "event_id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                    "accepted_at": "2024-01-10T09:32:00Z",
                    "completed_at": None,
                    "error": None,
                    "next_check_at": "2024-01-11T09:32:10.250Z",
                },
            ]
        },
    )

    id: str
    status: Literal["pending", "scheduled", "completed", "failed"] = Field(
        description="`pending`: accepted, not enriched yet. `scheduled`: a future hire not in "
        "Okta yet, looked up again at `next_check_at`; clients that know only "
        "pending/completed/failed treat it as `pending`. `completed`: enriched. `failed`: "
        "dead-lettered, the reason in `error`."
    )
    event_id: str | None
    accepted_at: datetime | None
    completed_at: datetime | None
    error: str | None
    next_check_at: datetime | None = Field(
        description="`pending` or `scheduled` while the event waits on a retry tier: when it "
        "is looked up in Okta again; otherwise `null`."
    )


class Problem(BaseModel):
    """Every refusal's body."""

    detail: str


def detail_example(detail: str) -> dict[str, object]:
    return {"application/json": {"example": {"detail": detail}}}
