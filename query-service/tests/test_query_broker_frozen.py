"""A frozen broker makes query-service not ready, naming kafka; it is ready again after.

Uses its own broker (the session's is never frozen) and the session's database.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from onboarding_devstack.polling import eventually_async
from onboarding_devstack.private_broker import PrivateBroker
from onboarding_events import ERASURES_TOPIC
from onboarding_runtime.kafka import KafkaConnection, TopicSpec, ensure_topics
from query_service.projector import TOPICS
from query_support import client_of, make_settings, running, with_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def broker(private_broker: PrivateBroker) -> PrivateBroker:
    return private_broker


async def _down(client: httpx.AsyncClient) -> list[str] | None:
    answer = await client.get("/v1/readyz", timeout=10)
    return answer.json()["down"] if answer.status_code == 503 else None


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/v1/readyz", timeout=10)).status_code == 200


async def test_readiness_names_kafka_while_the_broker_is_frozen(
    broker: PrivateBroker, mongodb_url: str
) -> None:
    topics = (*TOPICS, ERASURES_TOPIC)
    await ensure_topics(
        KafkaConnection(broker.bootstrap), tuple(TopicSpec(t, partitions=1) for t in topics)
    )
    name = f"q{uuid.uuid4().hex[:10]}"
    settings = make_settings(
        kafka_bootstrap_servers=broker.bootstrap,
        mongodb_url=with_database(mongodb_url, name),
        query_group_id=f"query-{name}",
    )
    async with running(settings) as transport, client_of(transport) as client:
        await eventually_async(lambda: _ready(client), within=60)
        broker.freeze()
        down = await eventually_async(lambda: _down(client), within=60, every=1.0)
        assert "kafka" in down
        broker.thaw()
        await eventually_async(lambda: _ready(client), within=60, every=1.0)
