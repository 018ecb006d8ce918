"""The Okta lookup and the contract's mapping, with Okta faked at its port (a Protocol)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from enrich_service.handlers import on_hr_user_upserted
from enrich_service.okta_models import (
    OktaAppLink,
    OktaGroup,
    OktaGroupProfile,
    OktaUser,
    OktaUserProfile,
)
from onboarding_events import HR_USER_UPSERTED, HrUser, HrUserUpserted, UserEnriched
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


def _event(**changes: str) -> HrUserUpserted:
    record = {
        "employee_id": "12345",
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane.doe@example.com",
        "title": "Software Engineer",
        "department": "Engineering",
        "start_date": "2024-01-15",
        **changes,
    }
    return HrUserUpserted(
        source="urn:test", type=HR_USER_UPSERTED, subject="12345", data=HrUser(**record)
    )


async def test_enriched_user_follows_the_contract() -> None:
    published: list[UserEnriched] = []

    async def publish(event: UserEnriched) -> None:
        published.append(event)

    source = _event()
    await on_hr_user_upserted(source, okta=FakeOkta(), publish=publish, hr_offset=7)

    [event] = published
    assert event.subject == "12345"
    assert event.time == source.time
    assert event.data.model_dump() == {
        "id": "12345",
        "name": "Jane Doe",
        "email": "jane.doe@example.com",
        "title": "Software Engineer",
        "department": "Engineering",
        "startDate": "2024-01-15",
        "groups": ["Everyone", "Engineering"],
        "applications": ["Slack", "Jira"],
        "onboarded": True,
    }


async def test_staged_account_is_not_onboarded() -> None:
    published: list[UserEnriched] = []

    async def publish(event: UserEnriched) -> None:
        published.append(event)

    await on_hr_user_upserted(
        _event(), okta=FakeOkta(status="STAGED"), publish=publish, hr_offset=0
    )

    assert published[0].data.onboarded is False


async def test_a_failed_groups_call_publishes_nothing() -> None:
    published: list[UserEnriched] = []

    async def publish(event: UserEnriched) -> None:
        published.append(event)

    with pytest.raises(RetryableError):
        await on_hr_user_upserted(
            _event(), okta=FakeOkta(groups_fail=True), publish=publish, hr_offset=0
        )
    assert published == []


async def test_an_erased_employee_is_not_enriched_again() -> None:
    published: list[UserEnriched] = []
    okta = FakeOkta()

    async def publish(event: UserEnriched) -> None:
        published.append(event)

    await on_hr_user_upserted(
        _event(), okta=okta, publish=publish, hr_offset=0, erased=lambda _id, _t: True
    )

    assert published == []
    assert okta.calls == []  # Okta is not even asked


async def test_an_erasure_during_the_okta_lookup_stops_the_publish() -> None:
    published: list[UserEnriched] = []
    okta = FakeOkta()

    async def publish(event: UserEnriched) -> None:
        published.append(event)

    def erased(employee_id: str, _time: object) -> bool:
        return bool(okta.calls)  # erased once the lookup has started

    await on_hr_user_upserted(_event(), okta=okta, publish=publish, hr_offset=0, erased=erased)

    assert okta.calls == ["search:jane.doe@example.com"]
    assert published == []
