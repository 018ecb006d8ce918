"""Fixtures: an `Ops` with private topics and database on the session's broker and FerretDB."""

from __future__ import annotations

import pytest
from onboarding_ops.bootstrap import Ops
from onboarding_ops.settings import Settings
from onboarding_ops.topics import TopicNames
from opskit import TEST_PII_KEY, OpsDriver


@pytest.fixture
def settings(kafka_bootstrap: str, mongodb_url: str, unique_name: str) -> Settings:
    # Every field that matters explicit, so variables in the environment cannot change tests.
    return Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        mongodb_url=mongodb_url.replace("/onboarding?", f"/{unique_name}?"),
        pii_hash_key=TEST_PII_KEY,
        environment="test",
        ops_connect_timeout_s=10,
        kafka_replication_factor=1,  # the session broker is a single node
        kafka_min_insync_replicas=1,
        view_pointer_ttl_s=0.1,
    )


@pytest.fixture
def waits() -> list[float]:
    """What the commands waited for (erase's publish fence), without waiting."""
    return []


@pytest.fixture
def ops(settings: Settings, unique_name: str, waits: list[float]) -> Ops:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return Ops(settings, TopicNames.prefixed(f"{unique_name}."), sleep=sleep)


@pytest.fixture
async def driver(ops: Ops) -> OpsDriver:
    """The CLI on private topics (created here, as `make up` would with `topics`)."""
    driver = OpsDriver(ops)
    result = await driver.invoke("topics")
    assert result.exit_code == 0, result.output
    return driver


@pytest.fixture
def ops_without_topics(ops: Ops) -> OpsDriver:
    return OpsDriver(ops)
