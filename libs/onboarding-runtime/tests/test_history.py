"""What a new owner reads of the past: the records just before its committed offsets,
bounded by count and by time; and the runner tells `prepare` where it starts. Real broker."""

from __future__ import annotations

import time
from collections.abc import Mapping

import pytest
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_runtime.kafka import (
    ConsumerRunner,
    KafkaConnection,
    Record,
    TopicPartition,
    read_before,
)
from runtime_kafka_support import make_topic, running, send

pytestmark = pytest.mark.integration


async def test_reads_at_most_the_last_records_before_the_offset_in_order(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    await send(kafka_bootstrap, topic, [("k", f"r{i}".encode()) for i in range(6)])

    last_three = await read_before(KafkaConnection(kafka_bootstrap), topic, {0: 4}, max_records=3)
    everything = await read_before(KafkaConnection(kafka_bootstrap), topic, {0: 4}, max_records=100)

    assert last_three is not None
    assert everything is not None
    assert [m.value() for m in last_three] == [b"r1", b"r2", b"r3"]
    assert [m.value() for m in everything] == [b"r0", b"r1", b"r2", b"r3"]


async def test_records_older_than_the_bound_in_time_are_not_read(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    await send(kafka_bootstrap, topic, [("k", b"old")])
    tomorrow_ms = int((time.time() + 86_400) * 1000)

    found = await read_before(
        KafkaConnection(kafka_bootstrap), topic, {0: 1}, max_records=10, since_ms=tomorrow_ms
    )

    assert found == []


async def test_prepare_is_told_the_committed_offset_of_each_partition_it_was_given(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    await send(kafka_bootstrap, topic, [("k", b"a"), ("k", b"b")])
    handled: list[bytes | None] = []
    told: list[dict[int, int]] = []

    async def handle(record: Record) -> None:
        handled.append(record.value)

    async def prepare(starts: Mapping[TopicPartition, int]) -> bool:
        told.append({tp.partition: offset for tp, offset in starts.items()})
        return True

    def runner() -> ConsumerRunner:
        return ConsumerRunner(
            name="history",
            kafka=KafkaConnection(kafka_bootstrap),
            group_id=unique_name,
            topics=[topic],
            handler=handle,
            prepare=prepare,
            commit_interval_s=0.1,
        )

    async with running(runner()):
        await eventually(lambda: handled == [b"a", b"b"], within=30)
    await send(kafka_bootstrap, topic, [("k", b"c")])
    async with running(runner()):  # the next owner, where the first left off
        await eventually(lambda: handled[-1:] == [b"c"], within=30)

    assert told == [{}, {0: 2}]  # nothing committed at first; then past `a` and `b`
