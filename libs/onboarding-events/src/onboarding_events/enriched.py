"""The enriched user: exactly what `GET /v1/users/{id}` returns and `user.enriched` carries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from onboarding_events.cloudevent import CloudEvent

USERS_ENRICHED_TOPIC = "users.enriched.v1"
USER_ENRICHED = "user.enriched"

# Okta statuses in which the person can sign in: the account is in use.
ONBOARDED_STATUSES = frozenset({"ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"})


class EnrichedUser(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "12345",
                    "name": "Jane Doe",
                    "email": "jane.doe@example.com",
                    "title": "Software Engineer",
                    "department": "Engineering",
                    "startDate": "2024-01-15",
                    "groups": ["Everyone", "Engineering", "Full-Time Employees"],
                    "applications": ["Google Workspace", "Slack", "Jira"],
                    "onboarded": True,
                }
            ]
        },
    )

    id: str
    name: str
    email: str
    title: str | None
    department: str | None
    startDate: str | None
    groups: list[str]
    applications: list[str]
    onboarded: bool


UserEnriched = CloudEvent[EnrichedUser]


def is_onboarded(okta_status: str) -> bool:
    return okta_status.upper() in ONBOARDED_STATUSES


def unique_in_order(values: list[str]) -> list[str]:
    """Drop repeats, keeping the first occurrence: Okta's order is the contract's order."""
    return list(dict.fromkeys(values))
