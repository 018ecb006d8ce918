"""`rebuild-view` rebuilds the users view from the enriched topic alone and switches to it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from onboarding_devstack.polling import eventually_async
from onboarding_events import UserEnriched, kafka_headers
from onboarding_ops.bootstrap import Ops, open_view
from onboarding_ops.rebuild import POINTER_MARGIN_S, PROJECTOR_POLL_S
from onboarding_ops.scan import Scan, TopicReader
from onboarding_runtime.kafka import EventProducer, KafkaConnection
from onboarding_runtime.kafka.producer import Written
from onboarding_runtime.view import Put, UsersView, VersionedWriter, version_of
from opskit import OpsDriver, enriched_event

pytestmark = pytest.mark.integration

DEADLINE_S = 60.0  # for a step of a test to happen; far above what any of them takes


async def test_rebuild_gives_the_newest_state_of_everyone_and_drops_the_old_collection(
    driver: OpsDriver,
) -> None:
    ops, topic = driver.ops, driver.topics.enriched
    t0 = datetime.now(UTC) - timedelta(hours=1)
    for n in range(30):
        event = enriched_event(f"emp-{n}", time=t0, hr_offset=n)
        await driver.publish(topic, event.subject, event.to_json())
    newer = enriched_event("emp-1", time=t0 + timedelta(minutes=5), hr_offset=40, groups=["New"])
    older = enriched_event("emp-1", time=t0 - timedelta(minutes=5), hr_offset=41, groups=["Old"])
    await driver.publish(topic, "emp-1", newer.to_json())
    await driver.publish(topic, "emp-1", older.to_json())  # a late, older event loses
    await driver.publish(topic, "emp-2", None)  # erased by a tombstone
    async with open_view(ops) as view:
        previous = await view.pointer.name()
        stale = VersionedWriter(view.db, previous)
        await stale.put_if_newer(Put("ghost", version_of(t0, 0), {"body": "{}"}))

    result = await driver.invoke("rebuild-view")

    assert result.exit_code == 0, result.output
    assert "(29 users from 33 records" in result.output
    async with open_view(ops) as view:
        live = await view.pointer.name()
        users = UsersView(view.db, pointer=view.pointer)
        emp1 = await users.get("emp-1")
        assert live != previous
        assert previous not in await view.db.list_collection_names()
        assert emp1 is not None
        assert json.loads(emp1.body)["groups"] == ["New"]
        assert await users.get("emp-2") is None
        assert await users.get("ghost") is None  # only the topic counts
        assert await users.get("emp-29") is not None


async def test_rebuild_leaves_out_erased_employees(driver: OpsDriver) -> None:
    topic = driver.topics.enriched
    for employee_id in ("emp-31", "emp-32"):
        event = enriched_event(employee_id, time=datetime.now(UTC), hr_offset=1)
        await driver.publish(topic, employee_id, event.to_json())
    await driver.invoke("erase", "emp-31", "--force")
    # As if compaction had not run yet and the tombstone were gone: the erasure log decides.
    late = enriched_event("emp-31", time=datetime.now(UTC) - timedelta(minutes=1), hr_offset=2)
    await driver.publish(topic, "emp-31", late.to_json())

    result = await driver.invoke("rebuild-view")

    assert result.exit_code == 0, result.output
    assert "2 erased skipped" in result.output
    async with open_view(driver.ops) as view:
        users = UsersView(view.db, pointer=view.pointer)
        assert await users.get("emp-31") is None
        assert await users.get("emp-32") is not None


async def test_rebuild_of_an_empty_topic_switches_to_an_empty_view(driver: OpsDriver) -> None:
    result = await driver.invoke("rebuild-view")

    assert result.exit_code == 0, result.output
    assert "(0 users from 0 records" in result.output


def _with_projector_group(ops: Ops, group: str, **settings: object) -> Ops:
    """`ops` with a query projector group of this test's own (and other settings changed)."""
    changed = ops.settings.model_copy(update={"query_group_id": group, **settings})
    return dataclasses.replace(ops, settings=changed)


def _partitions(ops: Ops) -> list[TopicPartition]:
    topic = ops.topics.enriched
    return [TopicPartition(topic, p) for p in range(ops.topics.spec(topic).partitions)]


async def _publish(ops: Ops, event: UserEnriched) -> Written:
    """Publish one enriched event; where it was written."""
    producer = EventProducer(KafkaConnection(ops.settings.kafka_bootstrap_servers))
    await producer.start()
    try:
        return await producer.publish(
            ops.topics.enriched, key=event.subject, value=event.to_json(), headers=kafka_headers()
        )
    finally:
        await producer.stop()


def _put(event: UserEnriched, hr_offset: int) -> Put:
    """What the projector writes to the view for `event` (the fields do not matter here)."""
    return Put(event.subject, version_of(event.time, hr_offset), {"body": event.to_json().decode()})


@contextlib.asynccontextmanager
async def _projector_member(ops: Ops, group: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A live member of the query projector's group holding every enriched partition, which
    commits only what the test tells it to."""
    consumer = AIOKafkaConsumer(
        ops.topics.enriched,
        bootstrap_servers=ops.settings.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        everything = set(_partitions(ops))
        await eventually_async(lambda: consumer.assignment() == everything, within=DEADLINE_S)
        yield consumer
    finally:
        await consumer.stop()


async def _ends(ops: Ops) -> dict[TopicPartition, int]:
    reader = TopicReader(KafkaConnection(ops.settings.kafka_bootstrap_servers), timeout_s=10)
    await reader.start()
    try:
        return dict((await reader.plan(ops.topics.enriched)).ends)
    finally:
        await reader.stop()


async def test_a_projector_batch_written_to_the_old_collection_after_the_flip_is_not_lost(
    driver: OpsDriver, unique_name: str
) -> None:
    """query-service's projector took a batch with the pointer as it was before the flip and
    finishes it late: it writes a record produced after the flip into the old collection, and
    only then commits. The rebuild waits for that commit before its last catch-up, so the
    record is in the new collection, not dropped with the old one."""
    group = f"{unique_name}-query"
    ops = _with_projector_group(driver.ops, group)
    t0 = datetime.now(UTC) - timedelta(hours=1)
    first = enriched_event("emp-late", time=t0, hr_offset=1)
    taken = await _publish(ops, first)  # in the projector's batch, not committed yet
    await _publish(ops, enriched_event("emp-other", time=t0, hr_offset=2))
    async with open_view(ops) as view:
        old = await view.pointer.name()  # what the projector resolved, before the flip
    in_wait = asyncio.Event()
    finished = threading.Event()
    loop = asyncio.get_running_loop()

    async def sleep(seconds: float) -> None:
        """The rebuild's waits (on the CLI's own loop): a poll of the projector's group holds
        until the projector has finished its batch."""
        if seconds == PROJECTOR_POLL_S:
            loop.call_soon_threadsafe(in_wait.set)
            await asyncio.to_thread(finished.wait, DEADLINE_S)

    async with _projector_member(ops, group) as projector:
        # Caught up but for the batch in hand: committed up to `first` on its partition.
        ends = await _ends(ops)
        held = TopicPartition(ops.topics.enriched, taken.partition)
        await projector.commit({**ends, held: taken.offset})
        rebuild = asyncio.create_task(
            OpsDriver(dataclasses.replace(ops, sleep=sleep)).invoke("rebuild-view")
        )
        # The batch goes on once the rebuild waits for it (or, were there no wait, once the
        # rebuild is over): a record produced after the flip, written to the old collection.
        waiting = asyncio.create_task(in_wait.wait())
        done, _ = await asyncio.wait(
            {rebuild, waiting}, timeout=DEADLINE_S, return_when=asyncio.FIRST_COMPLETED
        )
        waiting.cancel()
        assert done, "the rebuild neither waited for the projector nor finished"
        late = enriched_event(
            "emp-late", time=t0 + timedelta(minutes=5), hr_offset=3, groups=["Late"]
        )
        written = await _publish(ops, late)
        assert written.partition == taken.partition  # the same key
        async with open_view(ops) as view:
            stale = VersionedWriter(view.db, old)
            await stale.put_if_newer(_put(first, 1))
            await stale.put_if_newer(_put(late, 3))
        await projector.commit({held: written.offset + 1})
        finished.set()
        result = await asyncio.wait_for(rebuild, DEADLINE_S)

    assert result.exit_code == 0, result.output
    async with open_view(ops) as view:
        users = UsersView(view.db, pointer=view.pointer)
        emp = await users.get("emp-late")
        assert await view.pointer.name() != old
        assert emp is not None
        assert json.loads(emp.body)["groups"] == ["Late"]
        assert await users.get("emp-other") is not None
        assert old not in await view.db.list_collection_names()


async def test_a_projector_that_does_not_pass_the_end_in_time_fails_and_keeps_the_old_view(
    driver: OpsDriver, unique_name: str
) -> None:
    group = f"{unique_name}-query"
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds  # time passes only while the rebuild waits

    ops = dataclasses.replace(
        _with_projector_group(driver.ops, group, rebuild_projector_wait_s=5.0),
        sleep=sleep,
        clock=lambda: now[0],
    )
    t0 = datetime.now(UTC) - timedelta(hours=1)
    stuck = await _publish(ops, enriched_event("emp-1", time=t0, hr_offset=1))
    async with open_view(ops) as view:
        previous = await view.pointer.name()
        await VersionedWriter(view.db, previous).put_if_newer(Put("kept", version_of(t0, 0)))

    async with _projector_member(ops, group):  # holds the partitions, commits nothing
        result = await OpsDriver(ops).invoke("rebuild-view")

    assert result.exit_code == 1, result.output
    assert f"the query projector (consumer group {group})" in result.output
    assert f"partition {stuck.partition} at 0 of {stuck.offset + 1}" in result.output
    assert f"{previous} was kept; run rebuild-view again" in result.output
    assert now[0] >= 5.0
    async with open_view(ops) as view:
        assert await view.pointer.name() != previous  # switched, as the message says
        assert await view.db[previous].find_one({"_id": "kept"}) is not None


async def test_rebuild_does_not_wait_for_a_projector_group_without_live_members(
    driver: OpsDriver, unique_name: str, waits: list[float]
) -> None:
    """query-service is down, far behind: nothing of it can be in flight, so no wait."""
    group = f"{unique_name}-query"
    ops = _with_projector_group(driver.ops, group)
    await _publish(ops, enriched_event("emp-1", time=datetime.now(UTC), hr_offset=1))
    gone = AIOKafkaConsumer(
        bootstrap_servers=ops.settings.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
    )
    await gone.start()
    try:
        gone.assign(_partitions(ops))
        await gone.commit(dict.fromkeys(_partitions(ops), 0))
    finally:
        await gone.stop()
    reader = TopicReader(KafkaConnection(ops.settings.kafka_bootstrap_servers), timeout_s=10)
    await reader.start()
    try:
        progress = await reader.group_progress(group, _partitions(ops))
    finally:
        await reader.stop()
    assert progress.committed == dict.fromkeys(_partitions(ops), 0)
    assert progress.held == frozenset()

    result = await OpsDriver(ops).invoke("rebuild-view")

    assert result.exit_code == 0, result.output
    assert waits == [ops.settings.view_pointer_ttl_s + POINTER_MARGIN_S]  # the TTL, no poll


async def test_records_that_arrive_while_the_view_is_built_are_in_the_new_view(
    driver: OpsDriver, unique_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few records written after the first pass (a catch-up round too small to be worth
    its own pass before the switch) are written by the last catch-up: nobody else will."""
    ops = _with_projector_group(driver.ops, f"{unique_name}-query")
    topic = ops.topics.enriched
    t0 = datetime.now(UTC) - timedelta(hours=1)
    first = enriched_event("emp-first", time=t0, hr_offset=1)
    await driver.publish(topic, first.subject, first.to_json())
    plan_after = TopicReader.plan_after
    late = [enriched_event(f"emp-late-{n}", time=t0, hr_offset=10 + n) for n in range(3)]

    async def late_records_then_plan(self: TopicReader, previous: Scan) -> Scan:
        while late:  # they land while the first pass is written
            event = late.pop()
            await driver.publish(topic, event.subject, event.to_json())
        return await plan_after(self, previous)

    monkeypatch.setattr(TopicReader, "plan_after", late_records_then_plan)

    result = await OpsDriver(ops).invoke("rebuild-view")

    assert result.exit_code == 0, result.output
    async with open_view(ops) as view:
        users = UsersView(view.db, pointer=view.pointer)
        found = [await users.get(f"emp-late-{n}") for n in range(3)]
    assert all(user is not None for user in found)
