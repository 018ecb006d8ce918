"""Helpers for the runner's tests: a topic of its own, records in, a runner in the background."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaConsumer, TopicPartition
from onboarding_runtime.kafka import (
    ConsumerRunner,
    EventProducer,
    KafkaConnection,
    TopicSpec,
    ensure_topics,
)


async def make_topic(bootstrap: str, name: str, partitions: int = 1) -> str:
    await ensure_topics(KafkaConnection(bootstrap), (TopicSpec(name, partitions=partitions),))
    return name


async def send(bootstrap: str, topic: str, items: list[tuple[str, bytes]]) -> None:
    producer = EventProducer(KafkaConnection(bootstrap))
    await producer.start()
    try:
        for key, value in items:
            await producer.publish(topic, key=key, value=value)
    finally:
        await producer.stop()


def runner_for(bootstrap: str, topic: str, group: str, **options: object) -> ConsumerRunner:
    """A runner of `topic` in `group` that commits often (tests wait on its commits)."""
    return ConsumerRunner(
        name=f"test-{group}",
        kafka=KafkaConnection(bootstrap),
        group_id=group,
        topics=[topic],
        commit_interval_s=0.1,
        **options,  # type: ignore[arg-type]
    )


async def committed(bootstrap: str, group: str, topic: str, partition: int = 0) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        result: int | None = await consumer.committed(TopicPartition(topic, partition))
        return result
    finally:
        await consumer.stop()


@contextlib.asynccontextmanager
async def running(runner: ConsumerRunner) -> AsyncIterator[ConsumerRunner]:
    task = asyncio.create_task(runner.run())
    try:
        yield runner
    finally:
        runner.stop()
        await asyncio.wait_for(task, timeout=30)
