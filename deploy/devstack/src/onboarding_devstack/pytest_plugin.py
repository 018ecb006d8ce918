"""Pytest fixtures for the real broker and database, loaded by the root pytest config.

The session starts its own Kafka and FerretDB on free ports in a temporary folder (so a
`make up` stack may keep running) and stops them at the end. Nothing here is a fake.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from onboarding_devstack.private_broker import PrivateBroker
from onboarding_devstack.stack import StackConfig, create_topics, start_apps, start_infra, stop_all


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[4]


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    """A running Kafka broker and MongoDB-protocol server for the whole session."""
    cfg = StackConfig.on_free_ports(
        _repo_root(),
        tmp_path_factory.mktemp("stack"),
        # A short not-found period so end-to-end tests see real dead letters.
        # Ingest with two processes, as production runs it.
        {
            "LOG_FORMAT": "text",
            "ENVIRONMENT": "test",
            "ENRICH_NOT_FOUND_RETRY_S": "8",
            "INGEST_WORKERS": "2",
        },
    )
    try:
        start_infra(cfg)
        create_topics(cfg)
        yield cfg
    finally:
        stop_all(cfg)


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: StackConfig) -> str:
    return infra.bootstrap_servers


@pytest.fixture(scope="session")
def mongodb_url(infra: StackConfig) -> str:
    return infra.mongodb_url


@pytest.fixture(scope="session")
def stack(infra: StackConfig) -> StackConfig:
    """The simulator and the three services as processes, on top of `infra`."""
    start_apps(infra, timeout=90)
    return infra


@pytest.fixture
async def private_broker(tmp_path: Path) -> AsyncIterator[PrivateBroker]:
    """A started broker of this test's own (no topics), for tests that stop, freeze or
    starve Kafka: the session's broker is never touched. Thawed and stopped afterwards."""
    own = PrivateBroker(_repo_root(), tmp_path / "private-broker")
    await own.start()
    try:
        yield own
    finally:
        own.thaw()
        await own.stop()


@pytest.fixture
def unique_name() -> str:
    """A name no other test uses: for topics, groups, collections, databases."""
    return f"t{uuid.uuid4().hex[:12]}"
