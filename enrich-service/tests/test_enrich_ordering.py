"""For every employee the enriched topic only moves forward: an older HR event enriched
after a newer one (a redriven dead letter, a replay racing live traffic) is not published,
also by a restarted service that knows the newer state only from the topic."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaConsumer
from enrich_service.handlers import COPIES_SKIPPED
from enrich_service.recent_events import DUPLICATES_SKIPPED
from enrich_support import (
    EnrichFactory,
    Offsets,
    Simulator,
    end_offsets,
    hr_event,
    publish_hr,
    read_until,
    unique_person,
)
from onboarding_devstack.polling import eventually_async
from onboarding_events import REDRIVE_HEADER, USERS_ENRICHED_TOPIC
from onboarding_runtime.published import STALE_SKIPPED

pytestmark = pytest.mark.integration


async def _records_between(bootstrap: str, since: Offsets, until: Offsets, key: str) -> list[bytes]:
    """Every value of `key` written from `since` up to `until` (exclusive)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[bytes] = []
    try:
        consumer.assign(list(until))
        for tp in until:
            consumer.seek(tp, since.get(tp, 0))

        async def done() -> bool:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found.extend(r.value or b"" for r in records if r.key == key.encode())
            for tp, end in until.items():
                if await consumer.position(tp) < end:
                    return False
            return True

        await eventually_async(done, within=30)
        return found
    finally:
        await consumer.stop()


async def test_an_older_event_redriven_after_a_newer_one_is_never_published_after_it(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    await sim.put_user(email, status="ACTIVE", groups=["Everyone"], app_links=["Slack"])
    newer = hr_event(employee, email, title="Staff Engineer")
    older = hr_event(employee, email, title="Engineer", at=newer.time - timedelta(hours=1))
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    async with enrich():
        await publish_hr(kafka_bootstrap, [newer])
        await read_until(kafka_bootstrap, since, {employee}, lambda found: bool(found))

    skipped = STALE_SKIPPED._value.get()
    async with enrich():  # a restart: the newer state is known only from the topic
        await publish_hr(kafka_bootstrap, [older], headers={REDRIVE_HEADER: "1"})
        await eventually_async(lambda: STALE_SKIPPED._value.get() > skipped or None, within=60)
        until = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)

    values = await _records_between(kafka_bootstrap, since, until, employee)
    assert [json.loads(v)["data"]["title"] for v in values] == ["Staff Engineer"]


async def test_a_late_copy_of_a_superseded_event_is_not_enriched(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    """v2 gave way to v3 while queued; a copy of v2 written again later, with a later time
    (re-delivered to an ingest replica that had not seen it yet), is the same event: not
    enriched, so it cannot bring v2 back after v3."""
    employee, email = unique_person()
    await sim.put_user(email, status="ACTIVE", groups=["Everyone"], app_links=["Slack"])
    v1 = hr_event(employee, email, title="v1")
    v2 = hr_event(employee, email, title="v2", at=v1.time + timedelta(seconds=1))
    v3 = hr_event(employee, email, title="v3", at=v1.time + timedelta(seconds=2))
    late_copy = v2.model_copy(update={"time": v1.time + timedelta(seconds=3)})
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    await sim.latency(300, "listUsers")  # v1 is still being looked up when v2 and v3 arrive
    async with enrich():
        await publish_hr(kafka_bootstrap, [v1, v2, v3])
        await read_until(
            kafka_bootstrap,
            since,
            {employee},
            lambda found: any(json.loads(r.value)["data"]["title"] == "v3" for r in found),
        )
        skipped = DUPLICATES_SKIPPED._value.get()
        await publish_hr(kafka_bootstrap, [late_copy])
        await eventually_async(lambda: DUPLICATES_SKIPPED._value.get() > skipped or None, within=30)
        until = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)

    titles = [
        json.loads(v)["data"]["title"]
        for v in await _records_between(kafka_bootstrap, since, until, employee)
    ]
    assert titles[-1] == "v3"
    assert "v2" not in titles[titles.index("v3") :]


async def test_a_copy_of_a_published_event_is_not_enriched_again_after_a_restart(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    """The process that enriched the event is gone (restart, rebalance): the enriched topic
    itself says the event was published, so its second record is not enriched again."""
    employee, email = unique_person()
    await sim.put_user(email, status="ACTIVE", groups=["Everyone"], app_links=["Slack"])
    first = hr_event(employee, email, title="v1")
    copy = first.model_copy(update={"time": first.time + timedelta(seconds=5)})
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    async with enrich():
        await publish_hr(kafka_bootstrap, [first])
        await read_until(kafka_bootstrap, since, {employee}, lambda found: bool(found))

    skipped = COPIES_SKIPPED._value.get()
    # No look-back at the HR records before the group's offset: the enriched topic alone.
    async with enrich(enrich_dedupe_lookback_s=0):
        await publish_hr(kafka_bootstrap, [copy])
        await eventually_async(lambda: COPIES_SKIPPED._value.get() > skipped or None, within=60)
        until = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)

    values = await _records_between(kafka_bootstrap, since, until, employee)
    assert len(values) == 1
