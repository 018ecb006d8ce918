"""Kafka away while an enriched record is published: the partition waits, nothing is
dead-lettered, and the record is published once the broker answers again.

Uses its own broker (frozen here), never the session's.
"""

from __future__ import annotations

import json

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from enrich_support import EnrichFactory, Simulator, hr_event, publish_hr, read_until, unique_person
from onboarding_devstack.polling import eventually_async
from onboarding_devstack.private_broker import PrivateBroker
from onboarding_events import ERASURES_TOPIC, HR_USERS_DLQ_TOPIC, USERS_ENRICHED_TOPIC
from onboarding_runtime.kafka import TOPICS, KafkaConnection, TopicSpec, ensure_topics
from prometheus_client import REGISTRY

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
async def broker(private_broker: PrivateBroker) -> PrivateBroker:
    await ensure_topics(
        KafkaConnection(private_broker.bootstrap),
        (*TOPICS, TopicSpec(ERASURES_TOPIC, partitions=1)),
    )
    return private_broker


def failed_attempts() -> float:
    """Failed handler attempts of enrich consumers in this process (compared to a baseline)."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "onboarding_records_retried"
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("consumer") == "enrich"
    )


async def test_a_publish_the_broker_does_not_acknowledge_waits_and_is_never_dead_lettered(
    broker: PrivateBroker, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    await sim.put_user(email, status="ACTIVE", groups=["Everyone"], app_links=["Slack"])
    await sim.latency(700, "listUsers")  # within the test's 1 s Okta deadline
    async with enrich(
        kafka_bootstrap_servers=broker.bootstrap,
        kafka_publish_timeout_s=1.0,
        enrich_probe_interval_s=0.2,
    ):
        before = failed_attempts()
        await publish_hr(broker.bootstrap, [hr_event(employee, email)])
        # Okta is being asked (it answers in 0.7 s): freeze the broker before the publish.
        await eventually_async(lambda: _asked(sim), within=60)
        broker.freeze()
        # More failed attempts than the five a record gets before it is dead-lettered.
        await eventually_async(
            lambda: failed_attempts() - before >= 6 or None, within=90, every=0.5
        )
        broker.thaw()
        [record] = await read_until(
            broker.bootstrap,
            await _starts(broker.bootstrap, USERS_ENRICHED_TOPIC),
            {employee},
            lambda found: bool(found),
            within=90,
        )
        assert json.loads(record.value)["data"]["groups"] == ["Everyone"]
    dead = await read_until(
        broker.bootstrap,
        await _starts(broker.bootstrap, HR_USERS_DLQ_TOPIC),
        {employee},
        lambda found: True,
        within=5,
    )
    assert dead == []


async def _asked(sim: Simulator) -> bool:
    return bool(await sim.requests("listUsers"))


async def _starts(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        starts: dict[TopicPartition, int] = await consumer.beginning_offsets(partitions)
        return starts
    finally:
        await consumer.stop()
