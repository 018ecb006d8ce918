"""Fixtures: the Okta simulator as a process, and enrich-service running in this process
(`enrich`; `enrich_api` to talk HTTP to it)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from enrich_service.app import create_app
from enrich_service.settings import Settings
from enrich_support import (
    BIN,
    TOKEN,
    ApiFactory,
    EnrichFactory,
    Simulator,
    enrich_settings,
    start_at_end,
    wait_ready,
)
from onboarding_devstack.processes import Managed, free_port, start, stop
from onboarding_events import ERASURES_TOPIC
from onboarding_runtime.kafka import KafkaConnection, TopicSpec, ensure_topics


@pytest.fixture(scope="session")
def okta_sim_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    proc = Managed("okta-simulator", tmp_path_factory.mktemp("enrich-sim"))
    env = {"OKTA_SIM_PORT": str(port), "OKTA_API_TOKEN": TOKEN, "OKTA_SIM_LOG_LEVEL": "warning"}
    start(proc, [str(BIN / "okta-simulator")], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/v1/healthz", proc)
        yield url
    finally:
        stop(proc)


@pytest.fixture
async def sim(okta_sim_url: str) -> AsyncIterator[Simulator]:
    simulator = Simulator(okta_sim_url)
    await simulator.reset()
    try:
        yield simulator
    finally:
        await simulator.aclose()


@pytest.fixture(scope="session")
async def erasure_log(kafka_bootstrap: str) -> None:
    """The erasure topic, as `make up` creates it: without it the service's start waits its
    whole 30 s bound for an erasure log that is not there (when these tests run first)."""
    await ensure_topics(KafkaConnection(kafka_bootstrap), (TopicSpec(ERASURES_TOPIC),))


@pytest.fixture
def enrich(
    kafka_bootstrap: str, okta_sim_url: str, unique_name: str, erasure_log: None
) -> EnrichFactory:
    """`async with enrich(**settings):` runs the service (its own group) for the block."""

    @contextlib.asynccontextmanager
    async def run(*, resume: bool = False, **changes: Any) -> AsyncIterator[Settings]:
        """`resume`: start where the test's group left off (a restart), not at the end."""
        settings = enrich_settings(kafka_bootstrap, okta_sim_url, unique_name, **changes)
        if not resume:
            await start_at_end(kafka_bootstrap, settings)
        # Start-up reads the erasure log first: more than asgi-lifespan's default 5 s on a
        # busy 2-core machine with a fresh broker.
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
            yield settings

    return run


@pytest.fixture
def enrich_api(
    kafka_bootstrap: str, okta_sim_url: str, unique_name: str, erasure_log: None
) -> ApiFactory:
    """`async with enrich_api(**settings) as client:` runs the service (its own group, from
    the end of the HR topic) for the block; `client` speaks HTTP to it."""

    @contextlib.asynccontextmanager
    async def run(**changes: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = enrich_settings(kafka_bootstrap, okta_sim_url, unique_name, **changes)
        await start_at_end(kafka_bootstrap, settings)
        app = create_app(settings)
        # 60 s: with the broker away, start-up waits out its bounds (`STARTUP_WAIT_S`, twice).
        async with (
            LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://enrich"
            ) as client,
        ):
            yield client

    return run
