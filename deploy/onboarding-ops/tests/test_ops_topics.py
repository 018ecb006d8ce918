"""`topics` creates what is missing, fixes configuration drift, reports what only an operator
can fix (replication factor, partition count) with exit 3, and is idempotent.

The session broker is a single node: a replication factor above 1 cannot be created here,
so replication drift is shown by asking for 2 replicas of topics that have 1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from onboarding_ops.bootstrap import Ops
from onboarding_ops.kafka_admin import DYNAMIC_TOPIC_CONFIG
from onboarding_ops.settings import Settings
from opskit import OpsDriver

pytestmark = pytest.mark.integration

NEEDS_OPERATOR = 3  # the documented exit code, spelled out as an operator's script would


async def _described(bootstrap: str, topic: str) -> dict[str, tuple[str, int]]:
    """Config name -> (value, source), as `kafka-configs --describe --all` shows them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [(_code, _msg, _type, _name, entries)] = response.resources
        return {e[0]: (e[1], e[3]) for e in entries}
    finally:
        await admin.close()


async def _configs(bootstrap: str, topic: str) -> dict[str, str]:
    return {k: v for k, (v, _source) in (await _described(bootstrap, topic)).items()}


async def _overrides(bootstrap: str, topic: str) -> dict[str, str]:
    """What is set on the topic itself, not inherited from the broker."""
    described = await _described(bootstrap, topic)
    return {k: v for k, (v, source) in described.items() if source == DYNAMIC_TOPIC_CONFIG}


async def _alter(bootstrap: str, topic: str, configs: dict[str, str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs)]
        )
        assert [r[0] for r in response.resources] == [0]
    finally:
        await admin.close()
    # The broker's view of the configuration follows the controller a moment later.
    deadline = time.monotonic() + 10
    while not configs.items() <= (await _configs(bootstrap, topic)).items():
        assert time.monotonic() < deadline, "the altered configuration never showed"
        await asyncio.sleep(0.1)


async def _create(bootstrap: str, topic: str, partitions: int, configs: dict[str, str]) -> None:
    """A topic made by hand before `topics` ever ran, the way an operator might have."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        new = NewTopic(topic, partitions, replication_factor=1, topic_configs=configs)
        response = await admin.create_topics([new])
        assert [e[1] for e in response.topic_errors] == [0]
        deadline = time.monotonic() + 10
        while [t["error_code"] for t in await admin.describe_topics([topic])] != [0]:
            assert time.monotonic() < deadline, "the created topic never showed"
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def _replica_counts(bootstrap: str, topic: str) -> list[int]:
    """How many replicas each partition of the topic has."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
        return [len(p["replicas"]) for p in described["partitions"]]
    finally:
        await admin.close()


def _asking(ops: Ops, **settings: int) -> OpsDriver:
    """The same private topics, under other replication settings."""
    changed = Settings(**{**ops.settings.model_dump(), **settings})
    return OpsDriver(dataclasses.replace(ops, settings=changed))


async def test_first_run_creates_every_topic_with_its_configuration(ops: Ops) -> None:
    driver = OpsDriver(ops)

    result = await driver.invoke("topics")

    assert result.exit_code == 0, result.output
    assert "10 topics: 10 created" in result.output
    bootstrap = ops.settings.kafka_bootstrap_servers
    enriched = await _configs(bootstrap, ops.topics.enriched)
    assert enriched["cleanup.policy"] == "compact"
    erasures = await _configs(bootstrap, ops.topics.erasures)
    assert erasures["cleanup.policy"] == "compact"
    assert erasures["retention.ms"] != "0"
    # The retry tiers hold HR records (personal data) while they wait: deleted like them.
    assert [ops.topics.retries[0], ops.topics.retries[4]] == [
        f"{ops.topics.hr}.retry.1",
        f"{ops.topics.hr}.retry.5",
    ]
    for tier in ops.topics.retries:
        retry = await _overrides(bootstrap, tier)
        assert retry["retention.ms"] == "2592000000", tier
        assert retry["segment.ms"] == "86400000", tier
        assert await _replica_counts(bootstrap, tier) == [1] * 6, tier
    for topic in ops.topics.names():
        # Set on each topic, not left to whatever the brokers' defaults are or become.
        overrides = await _overrides(bootstrap, topic)
        assert overrides["min.insync.replicas"] == "1", topic
        assert overrides["unclean.leader.election.enable"] == "false", topic


async def test_a_second_run_changes_nothing(driver: OpsDriver) -> None:
    result = await driver.invoke("topics")

    assert result.exit_code == 0, result.output
    assert "10 topics: 10 ok" in result.output


async def test_drift_is_reported_and_fixed_keeping_other_overrides(driver: OpsDriver) -> None:
    bootstrap = driver.settings.kafka_bootstrap_servers
    topic = driver.topics.hr
    await _alter(bootstrap, topic, {"retention.ms": "1000", "max.message.bytes": "500000"})

    check = await driver.invoke("topics", "--check")
    fixed = await driver.invoke("topics")
    again = await driver.invoke("topics", "--check")

    assert check.exit_code == 1
    assert "retention.ms=1000, spec says 2592000000" in check.output
    assert fixed.exit_code == 0
    assert "1 fixed" in fixed.output
    configs = await _configs(bootstrap, topic)
    assert configs["retention.ms"] == "2592000000"
    assert configs["max.message.bytes"] == "500000"  # an operator's own override stays
    assert again.exit_code == 0, again.output


async def test_a_topic_made_with_weaker_durability_is_reported_and_fixed(ops: Ops) -> None:
    bootstrap = ops.settings.kafka_bootstrap_servers
    topic = ops.topics.hr
    weak = {"min.insync.replicas": "2", "unclean.leader.election.enable": "true"}
    await _create(bootstrap, topic, 6, weak)
    driver = OpsDriver(ops)

    check = await driver.invoke("topics", "--check")
    fixed = await driver.invoke("topics")
    again = await driver.invoke("topics", "--check")

    assert check.exit_code == 1, check.output
    assert "min.insync.replicas=2, KAFKA_MIN_INSYNC_REPLICAS says 1" in check.output
    assert "unclean.leader.election.enable=true, must be false" in check.output
    assert fixed.exit_code == 0, fixed.output
    assert "10 topics: 9 created, 1 fixed" in fixed.output
    assert "min.insync.replicas=2, KAFKA_MIN_INSYNC_REPLICAS says 1: fixed" in fixed.output
    overrides = await _overrides(bootstrap, topic)
    assert overrides["min.insync.replicas"] == "1"
    assert overrides["unclean.leader.election.enable"] == "false"
    assert overrides["retention.ms"] == "2592000000"  # the spec's configs came along
    assert again.exit_code == 0, again.output


async def test_replication_factor_drift_is_left_to_an_operator_with_exit_3(
    driver: OpsDriver,
) -> None:
    bootstrap = driver.settings.kafka_bootstrap_servers
    await _alter(bootstrap, driver.topics.hr, {"retention.ms": "1000"})
    # As for a move to more brokers: both settings raised, the topics still at 1 replica.
    wants_two = _asking(driver.ops, kafka_replication_factor=2, kafka_min_insync_replicas=2)

    check = await wants_two.invoke("topics", "--check")
    run = await wants_two.invoke("topics")

    assert check.exit_code == NEEDS_OPERATOR, check.output
    assert run.exit_code == NEEDS_OPERATOR, run.output
    assert "10 topics: 10 drift" in run.output
    assert "replication factor drift: 6 partitions with 1 replica" in run.output
    assert "KAFKA_REPLICATION_FACTOR says 2: left as is" in run.output
    assert "needs an operator: 10 of 10 topics" in run.output
    assert "kafka-reassign-partitions" in run.output
    # A min ISR above the replicas there are would refuse every write: it waits too.
    held = "min.insync.replicas=1, KAFKA_MIN_INSYNC_REPLICAS says 2, more than the 1 replica"
    assert held in run.output
    assert (await _configs(bootstrap, driver.topics.hr))["min.insync.replicas"] == "1"
    await driver.publish(driver.topics.hr, "emp-1", b"{}")  # acks=all, still accepted
    # What can be fixed in place was, in the same run; nothing was moved.
    assert "retention.ms=1000, spec says 2592000000: fixed" in run.output
    assert (await _configs(bootstrap, driver.topics.hr))["retention.ms"] == "2592000000"
    assert await _replica_counts(bootstrap, driver.topics.hr) == [1] * 6
    back = await driver.invoke("topics", "--check")
    assert back.exit_code == 0, back.output  # at the replication factor it has, all is well


async def test_partition_count_drift_is_left_as_is_with_exit_3(ops: Ops) -> None:
    bootstrap = ops.settings.kafka_bootstrap_servers
    await _create(bootstrap, ops.topics.dlq, 2, {})

    result = await OpsDriver(ops).invoke("topics")

    assert result.exit_code == NEEDS_OPERATOR, result.output
    assert "partition count drift: 2, spec says 6: left as is" in result.output
    assert "9 created" in result.output
    assert "break their order" in result.output
    assert await _replica_counts(bootstrap, ops.topics.dlq) == [1, 1]  # nothing added
