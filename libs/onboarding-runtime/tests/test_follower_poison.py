"""A topic follower has no dead-letter topic: a record its `apply` raises on is skipped,
counted and logged by place, and the follower goes on (real broker, a topic of its own)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from confluent_kafka import Message
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_runtime.kafka import KafkaConnection, TopicFollower
from prometheus_client import REGISTRY
from runtime_kafka_support import make_topic, send

pytestmark = pytest.mark.integration

DEEP = b"[" * 50_000
SECRET = "jane.doe@example.com"


def skipped(topic: str, reason: str) -> float:
    labels = {"consumer": "follower", "topic": topic, "reason": reason}
    return REGISTRY.get_sample_value("onboarding_records_skipped_total", labels) or 0.0


async def test_a_record_apply_raises_on_is_skipped_and_later_ones_applied(
    kafka_bootstrap: str, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    applied: list[Any] = []

    def apply(message: Message) -> None:
        applied.append(json.loads(message.value() or b""))  # raises on DEEP and on `broken`

    await send(kafka_bootstrap, topic, [("a", b'"first"'), ("b", DEEP), ("c", b'"second"')])
    follower = TopicFollower(KafkaConnection(kafka_bootstrap), topic, apply)
    try:
        with caplog.at_level(logging.ERROR, logger="onboarding_runtime.kafka.follower"):
            await follower.start()
            assert follower.caught_up.is_set()
            assert applied == ["first", "second"]

            broken = b'{"email": "' + SECRET.encode() + b'", '
            await send(kafka_bootstrap, topic, [("d", broken), ("e", b'"third"')])
            await eventually(lambda: applied[-1:] == ["third"], within=15)
    finally:
        await follower.stop()

    assert applied == ["first", "second", "third"]
    assert (skipped(topic, "too_deep"), skipped(topic, "apply_failed")) == (1, 1)
    lines = [r for r in caplog.records if r.name == "onboarding_runtime.kafka.follower"]
    assert [(r.__dict__["topic"], r.__dict__["offset"]) for r in lines] == [(topic, 1), (topic, 3)]
    assert all(SECRET not in repr(r.__dict__) for r in lines)
