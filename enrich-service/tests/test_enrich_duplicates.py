"""The same HR event written twice is enriched once; a copy an operator replays, again.
Real broker, the Okta simulator, enrich-service in this process (its own group)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

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
from onboarding_events import HR_USERS_TOPIC, REPLAY_HEADER, USERS_ENRICHED_TOPIC
from prometheus_client import REGISTRY

pytestmark = pytest.mark.integration


def _skipped() -> float:
    return REGISTRY.get_sample_value("onboarding_enrich_duplicates_skipped_total") or 0.0


async def _until_skipped(more_than: float, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while _skipped() <= more_than:
        if time.monotonic() > deadline:
            raise AssertionError(f"no duplicate skipped within {within}s")
        await asyncio.sleep(0.05)


async def test_an_event_written_twice_is_enriched_once_and_a_replayed_copy_again(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    await sim.put_user(email)
    event = hr_event(employee, email)
    # Ingest's races write the same event id twice, each copy with the time it was stamped.
    copy = event.model_copy(update={"time": event.time - timedelta(milliseconds=5)})
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    hr_since = await end_offsets(kafka_bootstrap, HR_USERS_TOPIC)
    skipped = _skipped()
    async with enrich():
        await publish_hr(kafka_bootstrap, [event])
        await publish_hr(kafka_bootstrap, [copy])
        await _until_skipped(skipped)
        await publish_hr(kafka_bootstrap, [event], headers={REPLAY_HEADER: "test"})
        found = await read_until(kafka_bootstrap, since, {employee}, lambda f: len(f) >= 2)

    written = await read_until(kafka_bootstrap, hr_since, {employee}, lambda f: len(f) == 3)
    enriched = [json.loads(r.value) for r in found]
    assert [e["hreventid"] for e in enriched] == [event.id, event.id]
    # The original and the replayed copy; the accidental copy between them left no trace.
    assert [int(e["hroffset"]) for e in enriched] == [written[0].offset, written[2].offset]
    assert len(await sim.requests("listUsers")) == 2
    assert _skipped() == skipped + 1


async def test_a_copy_of_an_event_superseded_before_a_restart_does_not_bring_it_back(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    await sim.put_user(email)
    first_at, second_at, copy_at = times(3)
    older = hr_event(employee, email, title="Older", at=first_at)
    newer = hr_event(employee, email, title="Newer", at=second_at)
    # A late re-delivery of the older event that another ingest replica wrote again before
    # it had read the first record: same id, stamped after the newer event.
    copy = older.model_copy(update={"time": copy_at})
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    async with enrich():
        pass  # the group starts at the end now
    await publish_hr(kafka_bootstrap, [older])
    await publish_hr(kafka_bootstrap, [newer])
    async with enrich(resume=True):
        # Both in one poll: the older event gives way to the newer, never enriched.
        await read_until(kafka_bootstrap, since, {employee}, lambda f: len(f) >= 1)
    await publish_hr(kafka_bootstrap, [copy])
    skipped = _skipped()
    async with enrich(resume=True):  # a new process: nothing of the first in its memory
        await _until_skipped(skipped)

    found = await read_for(kafka_bootstrap, since, {employee}, seconds=1.0)
    assert [json.loads(r.value)["data"]["title"] for r in found] == ["Newer"]
