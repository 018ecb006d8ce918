"""enrich-service against the real broker and the Okta simulator (each test its own group)."""

from __future__ import annotations

import asyncio
import json
import math
import time
from datetime import datetime
from typing import Any

import pytest
from enrich_support import (
    EnrichFactory,
    Simulator,
    end_offsets,
    hr_event,
    publish_hr,
    read_for,
    read_until,
    times,
    unique_person,
)
from onboarding_events import HR_USERS_DLQ_TOPIC, USERS_ENRICHED_TOPIC, header_map

pytestmark = pytest.mark.integration


def _data(record: Any) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(record.value)["data"]
    return value


def _logged_at(entry: dict[str, Any]) -> float:
    return datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()


async def test_450_groups_over_three_pages_arrive_complete_and_in_order(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    names = [f"Group {i:03d}" for i in range(450)]
    await sim.groups_page_size(200)
    await sim.put_user(email, status="ACTIVE", groups=names, app_links=["Slack", "Jira"])
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    async with enrich():
        event = hr_event(employee, email)
        await publish_hr(kafka_bootstrap, [event])
        [record] = await read_until(kafka_bootstrap, since, {employee}, lambda found: bool(found))

    enriched = json.loads(record.value)
    assert enriched["data"]["groups"] == names
    assert enriched["data"]["applications"] == ["Slack", "Jira"]
    assert enriched["data"]["onboarded"] is True
    assert enriched["time"] == event.model_dump(mode="json")["time"]
    assert enriched["hreventid"] == event.id
    assert len(await sim.requests("listUserGroups")) == 3


async def test_a_429_is_waited_out_until_its_reset_with_few_calls_in_the_window(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    people = [unique_person() for _ in range(20)]
    for _, email in people:
        await sim.put_user(email)
    await sim.fault("429", endpoint="listUsers", reset_after_seconds=3)
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    async with enrich(enrich_concurrency=4):
        await publish_hr(kafka_bootstrap, [hr_event(e, m) for e, m in people])
        await read_until(
            kafka_bootstrap, since, {e for e, _ in people}, lambda found: len(found) == 20
        )

    calls = await sim.requests("listUsers")
    throttled = next(c for c in calls if c["status"] == 429)
    reset = math.ceil(_logged_at(throttled)) + 3
    in_window = [c for c in calls if _logged_at(throttled) < _logged_at(c) < reset - 0.05]
    # Only calls already on the wire when the 429 came back: at most the 4 in flight.
    assert len(in_window) <= 4
    assert len([c for c in calls if c["status"] == 200]) == 20


async def test_5xx_bursts_and_timeouts_recover_without_dead_letters(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    people = [unique_person() for _ in range(5)]
    for _, email in people:
        await sim.put_user(email, groups=["Everyone"], app_links=["Slack"])
    await sim.fault("500", count=4)
    await sim.fault("timeout", count=1, hang_seconds=2)
    await sim.fault("503", count=6)
    keys = {e for e, _ in people}
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    dlq_since = await end_offsets(kafka_bootstrap, HR_USERS_DLQ_TOPIC)
    async with enrich():
        await publish_hr(kafka_bootstrap, [hr_event(e, m) for e, m in people])
        found = await read_until(kafka_bootstrap, since, keys, lambda found: len(found) >= 5)
        dead = await read_for(kafka_bootstrap, dlq_since, keys, 1.0)

    assert {_data(r)["groups"][0] for r in found} == {"Everyone"}
    assert dead == []
    statuses = [c["status"] for c in await sim.requests()]
    assert statuses.count(500) == 4
    assert statuses.count(503) == 6


async def test_okta_down_pauses_consumption_and_resumes_when_it_answers(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    people = [unique_person() for _ in range(10)]
    for _, email in people:
        await sim.put_user(email)
    await sim.fault("503", count=1000)
    keys = {e for e, _ in people}
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    dlq_since = await end_offsets(kafka_bootstrap, HR_USERS_DLQ_TOPIC)
    async with enrich(enrich_concurrency=4):
        await publish_hr(kafka_bootstrap, [hr_event(e, m) for e, m in people])
        await asyncio.sleep(3)  # the outage lasts a while: that is what is tested
        during = len(await sim.requests())
        await sim.clear_faults()
        cleared = time.monotonic()
        await read_until(kafka_bootstrap, since, keys, lambda found: len(found) >= 10)
        resumed_in = time.monotonic() - cleared
        dead = await read_for(kafka_bootstrap, dlq_since, keys, 1.0)

    assert dead == []
    # 4 employees x 4 tries, then probes: fewer than one round of tries for each of the 10.
    assert during < 40
    # The next probe finds Okta back: no half-minute pause after the outage (a CI failure
    # once, when every attempt in flight doubled the probe interval).
    assert resumed_in < 10


async def test_a_user_appearing_5_seconds_late_is_enriched(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    await sim.put_user(email, appears_after_seconds=5, groups=["Everyone"])
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    async with enrich():
        await publish_hr(kafka_bootstrap, [hr_event(employee, email)])
        [record] = await read_until(kafka_bootstrap, since, {employee}, bool, within=30)

    assert _data(record)["groups"] == ["Everyone"]
    assert len(await sim.requests("listUsers")) >= 2


async def test_a_missing_user_ends_in_the_dead_letter_topic_with_its_headers(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    event = hr_event(employee, email)
    dlq_since = await end_offsets(kafka_bootstrap, HR_USERS_DLQ_TOPIC)
    async with enrich(enrich_not_found_retry_s=2.0, enrich_retry_delays_s="0.5,1"):
        await publish_hr(kafka_bootstrap, [event])
        [record] = await read_until(kafka_bootstrap, dlq_since, {employee}, bool, within=30)

    assert record.value == event.to_json()  # the HR event unchanged
    headers = header_map(record.headers)
    assert headers["dlq-error-code"] == "okta_user_not_found"
    assert int(headers["dlq-attempts"]) >= 2
    first = datetime.fromisoformat(headers["dlq-first-failure"])
    last = datetime.fromisoformat(headers["dlq-last-failure"])
    assert (last - first).total_seconds() >= 1.5
    assert headers["dlq-source"].startswith("hr.users.v1/")


async def test_30_quick_updates_of_one_employee_end_in_the_last_one(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    await sim.put_user(email)
    await sim.latency(100)
    events = [hr_event(employee, email, title=f"v{i}", at=t) for i, t in enumerate(times(30))]
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    async with enrich():
        await publish_hr(kafka_bootstrap, events)
        found = await read_until(
            kafka_bootstrap, since, {employee}, lambda f: any(_data(r)["title"] == "v29" for r in f)
        )
        found = await read_for(kafka_bootstrap, since, {employee}, 1.0)  # nothing after it

    versions = [int(_data(r)["title"][1:]) for r in found]
    assert versions[-1] == 29
    assert versions == sorted(versions)  # never an older one after a newer one
    assert len(versions) < 30  # waiting updates were superseded, not all sent to Okta


async def test_a_partial_okta_failure_is_never_published(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    await sim.put_user(email, groups=["Everyone", "Engineering"], app_links=["Slack"])
    await sim.fault("500", count=1000, endpoint="listAppLinks")
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    async with enrich():
        await publish_hr(kafka_bootstrap, [hr_event(employee, email)])
        await _until_called(sim, "listUserGroups")
        await asyncio.sleep(1.5)
        nothing = await read_for(kafka_bootstrap, since, {employee}, 1.0)
        await sim.clear_faults()
        [record] = await read_until(kafka_bootstrap, since, {employee}, bool)

    assert nothing == []
    assert _data(record)["groups"] == ["Everyone", "Engineering"]
    assert _data(record)["applications"] == ["Slack"]


async def _until_called(sim: Simulator, endpoint: str) -> None:
    for _ in range(200):
        if await sim.requests(endpoint):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{endpoint} never called")
