"""The Okta lookup and the contract's mapping, with Okta faked at its port (a Protocol)."""

from __future__ import annotations

import pytest
from enrich_service.handlers import on_hr_user_upserted
from handler_fakes import FakeOkta, hr_upserted
from onboarding_events import UserEnriched
from onboarding_runtime.kafka import RetryableError, UnavailableError


async def test_enriched_user_follows_the_contract() -> None:
    published: list[UserEnriched] = []

    async def publish(event: UserEnriched) -> None:
        published.append(event)

    source = hr_upserted()
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
        hr_upserted(), okta=FakeOkta(status="STAGED"), publish=publish, hr_offset=0
    )

    assert published[0].data.onboarded is False


async def test_a_failed_groups_call_publishes_nothing() -> None:
    published: list[UserEnriched] = []

    async def publish(event: UserEnriched) -> None:
        published.append(event)

    with pytest.raises(RetryableError):
        await on_hr_user_upserted(
            hr_upserted(), okta=FakeOkta(groups_fail=True), publish=publish, hr_offset=0
        )
    assert published == []


async def test_an_erased_employee_is_not_enriched_again() -> None:
    published: list[UserEnriched] = []
    okta = FakeOkta()

    async def publish(event: UserEnriched) -> None:
        published.append(event)

    await on_hr_user_upserted(
        hr_upserted(), okta=okta, publish=publish, hr_offset=0, erased=lambda _id, _t: True
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

    await on_hr_user_upserted(hr_upserted(), okta=okta, publish=publish, hr_offset=0, erased=erased)

    assert okta.calls == ["search:jane.doe@example.com"]
    assert published == []


async def test_an_erasure_the_log_follower_has_not_read_yet_still_stops_the_publish() -> None:
    """The last check before publishing reads the erasure log to its end first."""
    published: list[UserEnriched] = []
    known: set[str] = set()

    async def publish(event: UserEnriched) -> None:
        published.append(event)

    async def sync_erasures() -> bool:
        known.add("12345")  # the erasure written meanwhile is read now
        return True

    await on_hr_user_upserted(
        hr_upserted(),
        okta=FakeOkta(),
        publish=publish,
        hr_offset=0,
        erased=lambda employee_id, _time: employee_id in known,
        sync_erasures=sync_erasures,
    )

    assert published == []


async def test_an_erasure_log_that_cannot_be_read_is_an_outage_not_a_publish() -> None:
    published: list[UserEnriched] = []

    async def publish(event: UserEnriched) -> None:
        published.append(event)

    async def unreachable() -> bool:
        return False

    with pytest.raises(UnavailableError):
        await on_hr_user_upserted(
            hr_upserted(), okta=FakeOkta(), publish=publish, hr_offset=0, sync_erasures=unreachable
        )
    assert published == []
