"""Fixtures: one query-service on the session broker and its own database, per module."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from onboarding_runtime.kafka import EventProducer, KafkaConnection
from query_service.settings import Settings
from query_support import READ_KEY, Publisher, client_of, make_settings, running, with_database


@pytest.fixture(scope="module")
def settings(kafka_bootstrap: str, mongodb_url: str) -> Settings:
    name = f"q{uuid.uuid4().hex[:10]}"
    return make_settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        mongodb_url=with_database(mongodb_url, name),
        query_group_id=f"query-{name}",
        read_api_key=READ_KEY,
    )


@pytest.fixture(scope="module")
async def app(settings: Settings) -> AsyncIterator[httpx.ASGITransport]:
    async with running(settings) as transport:
        yield transport


@pytest.fixture
async def api(app: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends the read key."""
    async with client_of(app, Authorization=f"Bearer {READ_KEY}") as client:
        yield client


@pytest.fixture
async def anonymous(app: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as client:
        yield client


@pytest.fixture(scope="module")
async def publish(kafka_bootstrap: str) -> AsyncIterator[Publisher]:
    producer = EventProducer(KafkaConnection(kafka_bootstrap))
    await producer.start()
    try:
        yield Publisher(producer)
    finally:
        await producer.stop()
