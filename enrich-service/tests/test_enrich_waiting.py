"""People not in Okta yet wait on the retry tiers, on the real broker: the HR topic is
committed past them at once, they are enriched when they come due after Okta learns them,
a newer HR event supersedes a waiting older one, and a restart re-enriches nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from enrich_support import (
    EnrichFactory,
    Offsets,
    Simulator,
    end_offsets,
    hr_event,
    publish_hr,
    read_for,
    read_until,
    unique_person,
)
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_events import (
    HR_USERS_TOPIC,
    RETRY_TOPICS,
    USERS_ENRICHED_TOPIC,
    Waiting,
)
from onboarding_runtime.kafka import EventProducer, KafkaConnection

pytestmark = pytest.mark.integration

Records = list[ConsumerRecord[bytes, bytes]]


async def _caught_up(bootstrap: str, group: str, topic: str) -> bool:
    """The group committed everything written to `topic` so far: its lag is 0."""
    ends = await end_offsets(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        return all([(await consumer.committed(tp)) == end for tp, end in ends.items()])
    finally:
        await consumer.stop()


async def _tier_ends(bootstrap: str) -> dict[str, Offsets]:
    return {topic: await end_offsets(bootstrap, topic) for topic in RETRY_TOPICS}


async def _put_users(sim: Simulator, emails: list[str]) -> None:
    for start in range(0, len(emails), 50):
        await asyncio.gather(*(sim.put_user(email) for email in emails[start : start + 50]))


def _title(record: ConsumerRecord[bytes, bytes]) -> str:
    title: str = json.loads(record.value)["data"]["title"]
    return title


async def test_a_person_not_in_okta_waits_on_a_tier_and_is_enriched_once_okta_knows_them(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    event = hr_event(employee, email)
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    tiers = await _tier_ends(kafka_bootstrap)
    async with enrich(enrich_retry_delays_s="2,2") as settings:
        await publish_hr(kafka_bootstrap, [event])
        # Written to tier 1, and the HR topic committed past it: it waits there, not here.
        await eventually(
            lambda: _caught_up(kafka_bootstrap, settings.enrich_group_id, HR_USERS_TOPIC),
            within=30,
        )
        [waiting] = await read_until(kafka_bootstrap, tiers[RETRY_TOPICS[0]], {employee}, bool)
        assert waiting.value == event.to_json()  # the HR record unchanged
        where = Waiting.of(waiting.headers)
        assert where is not None
        assert (where.tier, where.reason) == (1, "pending")
        assert where.hr_topic == HR_USERS_TOPIC
        assert where.due_at - where.first_attempt_at == timedelta(seconds=2)

        await sim.put_user(email, groups=["Everyone"])
        [record] = await read_until(kafka_bootstrap, since, {employee}, bool, within=30)

    enriched = json.loads(record.value)
    assert enriched["data"]["groups"] == ["Everyone"]
    # Its version is its HR record's: the place it had on `hr.users.v1`.
    assert enriched["hroffset"] == str(where.hr_offset)
    assert enriched["hreventid"] == event.id


async def test_a_future_hire_not_in_okta_is_scheduled_until_their_start_date_and_grace(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    start = datetime.now(UTC).date() + timedelta(days=40)
    tiers = await _tier_ends(kafka_bootstrap)
    async with enrich(enrich_retry_delays_s="3600", enrich_prehire_grace_s=86400.0):
        await publish_hr(kafka_bootstrap, [hr_event(employee, email, start=start)])
        [waiting] = await read_until(
            kafka_bootstrap, tiers[RETRY_TOPICS[0]], {employee}, bool, within=30
        )

    where = Waiting.of(waiting.headers)
    assert where is not None
    assert where.reason == "scheduled"
    assert where.wait_until == datetime.combine(start, datetime.min.time(), UTC) + timedelta(days=1)


async def test_a_newer_event_supersedes_a_waiting_older_one_which_is_dropped_when_due(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    older = hr_event(employee, email, title="older")
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    tiers = await _tier_ends(kafka_bootstrap)
    async with enrich(enrich_retry_delays_s="8,8") as settings:
        await publish_hr(kafka_bootstrap, [older])
        await read_until(kafka_bootstrap, tiers[RETRY_TOPICS[0]], {employee}, bool, within=30)
        await sim.put_user(email)
        await publish_hr(kafka_bootstrap, [hr_event(employee, email, title="newer")])
        await read_until(kafka_bootstrap, since, {employee}, bool, within=30)
        # The older one comes due, and its tier's group commits past it.
        await eventually(
            lambda: _caught_up(kafka_bootstrap, settings.retry_group_id, RETRY_TOPICS[0]),
            within=30,
        )
        records = await read_until(kafka_bootstrap, since, {employee}, lambda _: True, within=3)

    assert [_title(r) for r in records] == ["newer"]


async def test_2000_waiting_block_none_of_200_found_and_a_restart_re_enriches_nothing(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    for endpoint in ("listUsers", "listUserGroups", "listAppLinks"):
        await sim.rate_limit(endpoint, 1_000_000)
    waiting = [unique_person() for _ in range(2000)]
    known = [unique_person() for _ in range(200)]
    await _put_users(sim, [email for _, email in known])
    everyone = {e for e, _ in waiting} | {e for e, _ in known}
    people = [p for pair in zip(waiting[::10], known, strict=True) for p in pair]
    people += [p for p in waiting if p not in people]
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    settings: dict[str, Any] = {"enrich_retry_delays_s": "15,15", "enrich_concurrency": 32}

    async with enrich(**settings) as running:
        await publish_hr(kafka_bootstrap, [hr_event(e, m) for e, m in people])
        first = await read_until(
            kafka_bootstrap, since, everyone, lambda found: len(found) >= 200, within=120
        )
        await eventually(
            lambda: _caught_up(kafka_bootstrap, running.enrich_group_id, HR_USERS_TOPIC),
            within=60,
        )
    # All 200 done, none of the 2,000, and the HR topic's lag back to 0 while they wait.
    assert {(r.key or b"").decode() for r in first} == {e for e, _ in known}

    await _put_users(sim, [email for _, email in waiting])
    async with enrich(resume=True, **settings):
        await read_until(
            kafka_bootstrap, since, everyone, lambda found: len(found) >= 2200, within=240
        )
        found = await read_for(kafka_bootstrap, since, everyone, 3)

    keys = [(r.key or b"").decode() for r in found]
    # Each person once: the 200 not again after the restart, the 2,000 once they came due.
    assert sorted(set(keys)) == sorted(everyone)
    assert len(keys) == len(set(keys)) == 2200


async def test_a_hire_enriched_before_activation_is_enriched_again_once_the_account_is_active(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    event = hr_event(employee, email, start=datetime.now(UTC).date() + timedelta(days=10))
    await sim.put_user(email, status="STAGED")
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    hr_since = await end_offsets(kafka_bootstrap, HR_USERS_TOPIC)
    async with enrich(enrich_retry_delays_s="1,2"):
        await publish_hr(kafka_bootstrap, [event])
        [staged] = await read_until(kafka_bootstrap, since, {employee}, bool, within=30)
        assert json.loads(staged.value)["data"]["onboarded"] is False
        # Looked up again while STAGED: nothing new is published.
        await eventually(lambda: _lookups(sim, email, at_least=3), within=30)
        await sim.put_user(email, status="ACTIVE")
        records = await read_until(kafka_bootstrap, since, {employee}, lambda f: len(f) >= 2)

    assert [json.loads(r.value)["data"]["onboarded"] for r in records] == [False, True]
    again = json.loads(records[1].value)
    assert again["hreventid"] == event.id  # the same HR event, at a newer place
    assert int(again["hroffset"]) > int(json.loads(staged.value)["hroffset"])
    hr = await read_until(kafka_bootstrap, hr_since, {employee}, lambda f: len(f) >= 2)
    [original, replayed] = hr
    assert replayed.value == original.value
    assert ("onboarding-replay", b"activation") in replayed.headers


async def _lookups(sim: Simulator, email: str, *, at_least: int) -> bool:
    searches = await sim.requests("listUsers")
    return sum(email in json.dumps(call) for call in searches) >= at_least


async def test_two_records_of_one_waiting_event_are_enriched_once(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    event = hr_event(employee, email)
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    tiers = await _tier_ends(kafka_bootstrap)
    async with enrich(enrich_retry_delays_s="3,3"):
        await publish_hr(kafka_bootstrap, [event])
        await publish_hr(kafka_bootstrap, [event])  # the same delivery, written twice
        # Neither counts as handled while it waits: both wait, neither is skipped for the other.
        await read_until(kafka_bootstrap, tiers[RETRY_TOPICS[0]], {employee}, lambda f: len(f) == 2)
        await sim.put_user(email)
        await read_until(kafka_bootstrap, since, {employee}, bool, within=30)
        found = await read_for(kafka_bootstrap, since, {employee}, 8)

    assert [json.loads(r.value)["hreventid"] for r in found] == [event.id]


async def test_a_person_waiting_across_a_restart_with_new_hr_traffic_is_still_enriched(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    other, other_email = unique_person()
    await sim.put_user(other_email)
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    tiers = await _tier_ends(kafka_bootstrap)
    async with enrich(enrich_retry_delays_s="6,6"):
        await publish_hr(kafka_bootstrap, [hr_event(employee, email)])
        await read_until(kafka_bootstrap, tiers[RETRY_TOPICS[0]], {employee}, bool, within=30)
    await sim.put_user(email)
    # The restarted members learn the HR records before where they start as handled (the
    # waiting one among them): its record, come due, must still be looked up.
    async with enrich(resume=True, enrich_retry_delays_s="6,6"):
        await publish_hr(kafka_bootstrap, [hr_event(other, other_email)])
        found = await read_until(
            kafka_bootstrap, since, {employee, other}, lambda f: len(f) >= 2, within=60
        )

    assert sorted((r.key or b"").decode() for r in found) == sorted([employee, other])


async def test_a_record_due_later_than_any_delay_of_this_deployment_holds_nobody_back(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    # Written under an hour's delay (since shortened, or by another deployment): the record
    # behind it on the tier's partition is due now, and must not wait the hour.
    early, early_email = unique_person()
    behind, behind_email = unique_person()
    await sim.put_user(behind_email)
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    now = datetime.now(UTC)
    async with enrich(enrich_retry_delays_s="1,2"):
        producer = EventProducer(KafkaConnection(kafka_bootstrap))
        await producer.start()
        try:
            for employee, email, due in (
                (early, early_email, now + timedelta(hours=1)),
                (behind, behind_email, now),
            ):
                until = now + timedelta(days=3)
                wait = Waiting(1, due, now, until, HR_USERS_TOPIC, 0, 1, "pending")
                await producer.publish(
                    RETRY_TOPICS[0],
                    key="same-partition",
                    value=hr_event(employee, email).to_json(),
                    headers=wait.headers(),
                )
        finally:
            await producer.stop()
        [record] = await read_until(kafka_bootstrap, since, {behind}, bool, within=30)

    assert json.loads(record.value)["subject"] == behind
