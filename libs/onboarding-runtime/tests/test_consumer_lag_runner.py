"""`onboarding_consumer_lag` of the consumer runner on the real broker: records waiting count
until they are handled, then the lag is back to zero; for a handler and a batch handler."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_runtime.kafka import ConsumerRunner, KafkaConnection, Record
from prometheus_client import REGISTRY
from runtime_kafka_support import make_topic, running, send

pytestmark = pytest.mark.integration


def _lag(group: str, topic: str) -> float | None:
    labels = {"group": group, "topic": topic, "partition": "0"}
    return REGISTRY.get_sample_value("onboarding_consumer_lag", labels)


async def test_records_in_hand_and_not_fetched_are_lag_until_handled(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    await send(kafka_bootstrap, topic, [(f"k{n}", b"v") for n in range(5)])
    release = asyncio.Event()

    async def handler(record: Record) -> None:
        await release.wait()

    runner = ConsumerRunner(
        name=f"lag-{unique_name}",
        kafka=KafkaConnection(kafka_bootstrap),
        group_id=unique_name,
        topics=[topic],
        handler=handler,
    )
    async with running(runner):
        # Fetched, every one still in its handler: all five are behind.
        await eventually(lambda: _lag(unique_name, topic) == 5)
        release.set()
        await eventually(lambda: _lag(unique_name, topic) == 0)


async def test_a_batch_consumer_reports_what_it_has_not_written_yet(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    await send(kafka_bootstrap, topic, [(f"k{n}", b"v") for n in range(4)])
    second_batch = asyncio.Event()
    batches = 0

    async def write(records: Sequence[Record]) -> None:
        nonlocal batches
        batches += 1
        if batches > 1:  # the second batch waits: the first two records are written
            await second_batch.wait()

    runner = ConsumerRunner(
        name=f"lag-{unique_name}",
        kafka=KafkaConnection(kafka_bootstrap),
        group_id=unique_name,
        topics=[topic],
        batch_handler=write,
        max_batch=2,
    )
    async with running(runner):
        await eventually(lambda: _lag(unique_name, topic) == 2)
        second_batch.set()
        await eventually(lambda: _lag(unique_name, topic) == 0)
