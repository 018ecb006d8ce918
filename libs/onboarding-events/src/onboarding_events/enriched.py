"""The enriched user: exactly what `GET /v1/users/{id}` returns and `user.enriched` carries."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from onboarding_events.cloudevent import CloudEvent
from onboarding_events.contract import ContractModel

USERS_ENRICHED_TOPIC = "users.enriched.v1"
USER_ENRICHED = "user.enriched"

# Okta statuses in which the person can sign in: the account is in use.
ONBOARDED_STATUSES = frozenset({"ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"})


class EnrichedUser(ContractModel):
    """An employee as Okta knows them, for the HR record that was enriched."""

    model_config = ConfigDict(
        extra="ignore",
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


class HrEventRef(BaseModel):
    """The extension attributes of `user.enriched`: which HR event was enriched. Together
    with `time` (the HR event's) they order an employee's enriched records."""

    hreventid: str = Field(
        min_length=1, description="The `id` of the `hr.user.upserted` event that was enriched"
    )
    hroffset: str = Field(
        pattern=r"^[0-9]+$",
        description="That HR record's offset on `hr.users.v1`, as a decimal string",
    )


class UserEnriched(CloudEvent[EnrichedUser]):
    """`user.enriched` on `users.enriched.v1`: an employee's enriched state."""

    extensions = HrEventRef

    @classmethod
    def of(
        cls,
        *,
        source: str,
        subject: str,
        time: datetime,
        data: EnrichedUser,
        hreventid: str,
        hroffset: str,
    ) -> UserEnriched:
        """The event as its writer builds it: with its extension attributes, checked."""
        ref = HrEventRef(hreventid=hreventid, hroffset=hroffset)
        return cls(
            source=source,
            type=USER_ENRICHED,
            subject=subject,
            time=time,
            data=data,
            **ref.model_dump(),
        )


def is_onboarded(okta_status: str) -> bool:
    return okta_status.upper() in ONBOARDED_STATUSES


def unique_in_order(values: list[str]) -> list[str]:
    """Drop repeats, keeping the first occurrence: Okta's order is the contract's order."""
    return list(dict.fromkeys(values))
