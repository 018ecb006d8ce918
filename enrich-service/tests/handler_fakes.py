"""Unit-test fakes at the handler's ports: Okta (a Protocol) and the publish callable."""

from __future__ import annotations

from dataclasses import dataclass, field

from enrich_service.okta_models import (
    OktaAppLink,
    OktaGroup,
    OktaGroupProfile,
    OktaUser,
    OktaUserProfile,
)
from onboarding_events import (
    HR_USER_UPSERTED,
    HR_USERS_TOPIC,
    HrUser,
    HrUserUpserted,
    UserEnriched,
)
from onboarding_runtime.kafka import RetryableError


def _group(name: str) -> OktaGroup:
    return OktaGroup(id=f"g-{name}", profile=OktaGroupProfile(name=name))


@dataclass
class FakeOkta:
    status: str = "ACTIVE"
    groups_fail: bool = False
    calls: list[str] = field(default_factory=list)

    async def find_user_by_email(self, email: str) -> OktaUser:
        self.calls.append(f"search:{email}")
        return OktaUser(id="00u1", status=self.status, profile=OktaUserProfile(email=email))

    async def groups(self, user_id: str) -> list[OktaGroup]:
        if self.groups_fail:
            raise RetryableError("Okta 503", code="http_503")
        return [_group("Everyone"), _group("Engineering"), _group("Everyone")]

    async def app_links(self, user_id: str) -> list[OktaAppLink]:
        return [OktaAppLink(label="Slack"), OktaAppLink(label="Jira")]


@dataclass(frozen=True)
class HrRecord:
    """An `hr.users.v1` record as the consumer runner hands it over (the `Record` port)."""

    value: bytes | None
    offset: int = 0
    topic: str = HR_USERS_TOPIC
    partition: int = 0
    timestamp: int = 0
    key: bytes | None = b"12345"
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass
class Published:
    """The publish callable, keeping what it was given."""

    events: list[UserEnriched] = field(default_factory=list)

    async def __call__(self, event: UserEnriched) -> None:
        self.events.append(event)


def hr_upserted(subject: str = "12345", **changes: str) -> HrUserUpserted:
    record = {
        "employee_id": subject,
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane.doe@example.com",
        "title": "Software Engineer",
        "department": "Engineering",
        "start_date": "2024-01-15",
        **changes,
    }
    return HrUserUpserted(
        source="urn:test", type=HR_USER_UPSERTED, subject=subject, data=HrUser(**record)
    )
