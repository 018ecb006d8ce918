"""`TopicFollower.sync` under load: enrich-service asks it before every publish (is this
person erased?), sixteen or more at once. Each caller must see every record written before
its call, and callers at the same time share one end-offset request: one request each made
enrichment wait in line, at about ten people a second."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from confluent_kafka import Consumer, Message
from onboarding_devstack.polling import eventually_async as eventually
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


async def test_a_sync_called_while_a_request_is_out_waits_for_the_next_one(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    applied: list[bytes] = []

    def apply(message: Message) -> None:
        applied.append(message.value() or b"")

    follower = TopicFollower(KafkaConnection(kafka_bootstrap), topic, apply)
    ends = follower._ends
    gate = threading.Event()
    calls = 0

    def slow_first(consumer: Consumer) -> Any:
        """The first request reads the ends, then is held until the gate opens."""
        nonlocal calls
        calls += 1
        found = ends(consumer)
        if calls == 1:
            gate.wait(timeout=30)
        return found

    follower._ends = slow_first  # type: ignore[method-assign]
    try:
        await follower.start()
        first = asyncio.create_task(follower.sync())
        await eventually(lambda: calls == 1)  # its request read the ends, and is held
        await send(kafka_bootstrap, topic, [("k", b"written after the first request")])
        second = asyncio.create_task(follower.sync())
        await asyncio.sleep(0)  # the second is waiting (no time passes for anyone else)
        gate.set()
        assert await first
        assert await second
        seen_by_second = list(applied)
    finally:
        gate.set()
        await follower.stop()

    assert seen_by_second == [b"written after the first request"]
    assert calls == 2
