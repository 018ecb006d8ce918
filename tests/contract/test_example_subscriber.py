"""The example subscriber (libs/onboarding-events/examples/subscriber.py) against the real
broker: a record of a later `v1`, with fields it does not know, is read; the newest state
of each employee is kept; a tombstone drops the employee."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest
from onboarding_events import USER_ENRICHED, EnrichedUser, UserEnriched, kafka_headers
from onboarding_runtime.kafka import EventProducer, KafkaConnection, TopicSpec, ensure_topics

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "libs/onboarding-events/examples/subscriber.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("subscriber_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def enriched(employee_id: str, title: str, hroffset: int) -> bytes:
    return UserEnriched(
        source="urn:onboarding:enrich-service",
        type=USER_ENRICHED,
        subject=employee_id,
        time=datetime(2024, 1, 10, 9, hroffset, tzinfo=UTC),
        data=EnrichedUser(
            id=employee_id,
            name="Jane Doe",
            email=f"{employee_id}@example.com",
            title=title,
            department="Engineering",
            startDate="2024-01-15",
            groups=["Everyone"],
            applications=["Slack"],
            onboarded=True,
        ),
        hreventid=f"hr-{employee_id}-{hroffset}",
        hroffset=str(hroffset),
    ).to_json()


def from_a_later_v1(record: bytes) -> bytes:
    """What a newer writer may send within `v1`: more fields, a new extension attribute."""
    value = json.loads(record)
    value["hrbatch"] = "b-7"
    value["data"]["pronouns"] = "she/her"
    value["data"]["manager"] = {"id": "900"}
    return json.dumps(value).encode()


async def wait_for(condition: Callable[[], bool], deadline_s: float = 30.0) -> None:
    give_up = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < give_up, "the subscriber did not read every record in time"
        await asyncio.sleep(0.05)


async def test_the_example_subscriber_keeps_the_newest_state_and_honours_tombstones(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = f"{unique_name}.users.enriched.v1"
    await ensure_topics(KafkaConnection(kafka_bootstrap), (TopicSpec(topic, partitions=2),))
    producer = EventProducer(KafkaConnection(kafka_bootstrap))
    await producer.start()
    try:
        records = [
            ("emp-1", enriched("emp-1", "Engineer", 1)),
            ("emp-1", from_a_later_v1(enriched("emp-1", "Staff Engineer", 2))),
            ("emp-2", enriched("emp-2", "Designer", 3)),
            ("emp-2", None),  # erased
            ("emp-3", enriched("emp-3", "Analyst", 4)),
        ]
        for key, value in records:
            headers = kafka_headers() if value is not None else []
            await producer.publish(topic, key=key, value=value, headers=headers)
    finally:
        await producer.stop()

    example = load_example()
    directory = example.Directory()
    following = asyncio.create_task(
        example.follow(kafka_bootstrap, f"{unique_name}-subscriber", directory, topic=topic)
    )
    try:
        await wait_for(lambda: directory.applied == len(records) or following.done())
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following

    assert directory.unreadable == 0
    assert sorted(directory.users) == ["emp-1", "emp-3"]
    newest = directory.users["emp-1"]
    assert newest.title == "Staff Engineer"
    assert "pronouns" not in newest.model_dump()
