"""`TopicFollower.sync` under load: enrich-service asks it before every publish (is this
person erased?), sixteen or more at once. Each caller must see every record written before
its call, and callers at the same time share one end-offset request: one request each made
enrichment wait in line, at about ten people a second."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from confluent_kafka import Consumer, Message
from onboarding_runtime.kafka import KafkaConnection, TopicFollower
from runtime_kafka_support import make_topic, send

pytestmark = pytest.mark.integration


async def test_many_syncs_at_once_share_a_request_and_each_sees_what_was_written_before_it(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name, partitions=3)
    applied: list[bytes] = []

    def apply(message: Message) -> None:
        applied.append(message.value() or b"")

    follower = TopicFollower(KafkaConnection(kafka_bootstrap), topic, apply)
    requests = 0
    ends = follower._ends

    def counted(consumer: Consumer) -> Any:
        nonlocal requests
        requests += 1
        return ends(consumer)

    follower._ends = counted  # type: ignore[method-assign]
    try:
        await follower.start()
        await send(kafka_bootstrap, topic, [(f"k{i}", f"v{i}".encode()) for i in range(30)])

        async def sync_and_count() -> int:
            assert await follower.sync()
            return len(applied)

        seen = await asyncio.gather(*(sync_and_count() for _ in range(200)))
    finally:
        await follower.stop()

    assert seen == [30] * 200  # every caller saw all 30 written before it asked
    assert requests <= 2  # the request in flight, if any, and the one after it
