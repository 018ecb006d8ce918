"""enrich-service handles no HR event before its erasure log is loaded, and says so.

Uses its own broker, where the erasure topic does not exist at first (as on a cluster
where `onboarding-ops topics` has not run yet), never the session's.
"""

from __future__ import annotations

import json

import httpx
import pytest
from asgi_lifespan import LifespanManager
from enrich_service.app import create_app
from enrich_support import (
    Simulator,
    end_offsets,
    enrich_settings,
    hr_event,
    publish_hr,
    read_until,
    unique_person,
)
from onboarding_devstack.polling import eventually_async
from onboarding_devstack.private_broker import PrivateBroker
from onboarding_events import ERASURES_TOPIC, USERS_ENRICHED_TOPIC
from onboarding_runtime.kafka import TOPICS, KafkaConnection, TopicSpec, ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
async def broker(private_broker: PrivateBroker) -> PrivateBroker:
    await ensure_topics(
        KafkaConnection(private_broker.bootstrap), TOPICS
    )  # everything but the erasure log
    return private_broker


async def _down(client: httpx.AsyncClient) -> list[str] | None:
    answer = await client.get("/v1/readyz", timeout=10)
    return answer.json()["down"] if answer.status_code == 503 else None


async def test_no_hr_event_is_handled_before_the_erasure_log_is_loaded(
    broker: PrivateBroker, sim: Simulator, okta_sim_url: str, unique_name: str
) -> None:
    employee, email = unique_person()
    await sim.put_user(email, status="ACTIVE", groups=["Everyone"], app_links=["Slack"])
    settings = enrich_settings(broker.bootstrap, okta_sim_url, unique_name)
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://enrich") as client:
            since = await end_offsets(broker.bootstrap, USERS_ENRICHED_TOPIC)
            await publish_hr(broker.bootstrap, [hr_event(employee, email)])
            down = await eventually_async(lambda: _down(client), within=30)
            assert "erasures" in down
            assert await sim.requests("listUsers") == []  # nobody looked up yet

            await ensure_topics(
                KafkaConnection(broker.bootstrap), (TopicSpec(ERASURES_TOPIC, partitions=1),)
            )
            await eventually_async(lambda: _ready(client), within=60)
            [record] = await read_until(
                broker.bootstrap, since, {employee}, lambda found: bool(found), within=60
            )
    assert json.loads(record.value)["subject"] == employee


async def _ready(client: httpx.AsyncClient) -> bool | None:
    return (await client.get("/v1/readyz", timeout=10)).status_code == 200 or None
