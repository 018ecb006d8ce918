"""A rebalance hands a partition over cleanly: the member that loses it has stopped acting
on it (its publishes landed, its batch write ended) before the next member starts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest
from aiokafka import AIOKafkaConsumer
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_runtime.kafka import (
    BatchHandler,
    ConsumerRunner,
    EventProducer,
    KafkaConnection,
    Record,
)
from runtime_kafka_support import make_topic, running, send

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PARTITIONS = 6
KEYS = [f"k{n}" for n in range(24)]


def _runner(bootstrap: str, topic: str, group: str, **options: object) -> ConsumerRunner:
    return ConsumerRunner(
        name=f"handover-{group}",
        kafka=KafkaConnection(bootstrap),
        group_id=group,
        topics=[topic],
        commit_interval_s=0.1,
        **options,  # type: ignore[arg-type]
    )


async def _read_all(bootstrap: str, topic: str, expect: int) -> list[tuple[str, str]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[tuple[str, str]] = []
    try:

        async def more() -> bool:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found.extend(((r.key or b"").decode(), (r.value or b"").decode()) for r in records)
            return len(found) >= expect

        await eventually(more, within=60)
        return found
    finally:
        await consumer.stop()


async def test_a_member_losing_a_partition_publishes_nothing_after_the_next_owner(
    kafka_bootstrap: str, unique_name: str
) -> None:
    source = await make_topic(kafka_bootstrap, unique_name, partitions=PARTITIONS)
    output = await make_topic(kafka_bootstrap, f"{unique_name}-out", partitions=1)
    # The first member's records sit in its producer for 3 s (a slow broker, as it were):
    # its handlers are cancelled after the grace period with their publishes still in flight.
    slow = EventProducer(KafkaConnection(kafka_bootstrap), linger_ms=3000, timeout_s=15)
    fast = EventProducer(KafkaConnection(kafka_bootstrap), linger_ms=0)
    await slow.start()
    await fast.start()
    started_by_first: set[str] = set()

    async def first(record: Record) -> None:
        key = (record.key or b"").decode()
        started_by_first.add(key)
        await slow.publish(output, key=key, value=b"first")
        await asyncio.Event().wait()  # never finishes: its partition is never committed past

    async def second(record: Record) -> None:
        await fast.publish(output, key=(record.key or b"").decode(), value=b"second")

    one = _runner(
        kafka_bootstrap, source, unique_name, handler=first, settle=slow.flush, concurrency=32
    )
    one._grace_s = 0.5
    two = _runner(kafka_bootstrap, source, unique_name, handler=second)
    try:
        async with running(one):
            await send(kafka_bootstrap, source, [(key, b"x") for key in KEYS])
            await eventually(lambda: len(started_by_first) == len(KEYS) or None, within=60)
            async with running(two):
                written = await _read_all(kafka_bootstrap, output, len(KEYS) + 1)
    finally:
        await slow.stop()
        await fast.stop()

    by_key: dict[str, list[str]] = {}
    for key, value in written:
        by_key.setdefault(key, []).append(value)
    moved = [key for key, values in by_key.items() if "second" in values]
    assert moved, "the rebalance moved no partition to the second member"
    for key in moved:
        values = by_key[key]
        assert values.index("second") > values.index("first"), (key, values)


async def test_a_batch_being_written_ends_before_the_next_owner_writes_its_partition(
    kafka_bootstrap: str, unique_name: str
) -> None:
    source = await make_topic(kafka_bootstrap, unique_name, partitions=PARTITIONS)
    spans: list[tuple[str, int, float, float]] = []  # member, partition, start, end
    writing = asyncio.Event()

    def handler_of(member: str) -> BatchHandler:
        async def write(records: Sequence[Record]) -> None:
            began = time.monotonic()
            if member == "one" and not writing.is_set():
                writing.set()
                await asyncio.sleep(3)  # the first member's first bulk write takes a while
            spans.append((member, records[0].partition, began, time.monotonic()))

        return write

    one = _runner(kafka_bootstrap, source, unique_name, batch_handler=handler_of("one"))
    two = _runner(kafka_bootstrap, source, unique_name, batch_handler=handler_of("two"))
    await send(kafka_bootstrap, source, [(key, b"x") for key in KEYS])
    async with running(one):
        await asyncio.wait_for(writing.wait(), timeout=60)
        async with running(two):  # joins while the first member's batch is being written
            await send(kafka_bootstrap, source, [(key, b"y") for key in KEYS])
            await eventually(lambda: any(m == "two" for m, *_ in spans) or None, within=60)

    ended = {p: end for member, p, _, end in spans if member == "one"}
    for member, partition, began, _ in spans:
        if member == "two" and partition in ended:
            assert began >= ended[partition], (partition, spans)
