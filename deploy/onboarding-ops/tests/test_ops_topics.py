"""`topics` creates what is missing, fixes configuration drift, and is idempotent."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from onboarding_ops.bootstrap import Ops
from opskit import OpsDriver

pytestmark = pytest.mark.integration


async def _configs(bootstrap: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [(_code, _msg, _type, _name, entries)] = response.resources
        return {e[0]: e[1] for e in entries}
    finally:
        await admin.close()


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


async def test_first_run_creates_every_topic_with_its_configuration(ops: Ops) -> None:
    driver = OpsDriver(ops)

    result = await driver.invoke("topics")

    assert result.exit_code == 0, result.output
    assert "5 topics: 5 created" in result.output
    bootstrap = ops.settings.kafka_bootstrap_servers
    enriched = await _configs(bootstrap, ops.topics.enriched)
    assert enriched["cleanup.policy"] == "compact"
    erasures = await _configs(bootstrap, ops.topics.erasures)
    assert erasures["cleanup.policy"] == "compact"
    assert erasures["retention.ms"] != "0"


async def test_a_second_run_changes_nothing(driver: OpsDriver) -> None:
    result = await driver.invoke("topics")

    assert result.exit_code == 0, result.output
    assert "5 topics: 5 ok" in result.output


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
