"""A projector that dies for any reason makes the service not ready, naming the cause."""

from __future__ import annotations

import uuid

import httpx
import pytest
from asgi_lifespan import LifespanManager
from onboarding_devstack.polling import eventually_async
from query_service.app import create_app
from query_support import client_of, make_settings, with_database

pytestmark = pytest.mark.integration


async def test_a_dead_projector_is_a_named_readiness_failure(
    kafka_bootstrap: str, mongodb_url: str
) -> None:
    name = f"q{uuid.uuid4().hex[:10]}"
    settings = make_settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        mongodb_url=with_database(mongodb_url, name),
        query_group_id=f"query-{name}",
    )
    app = create_app(settings)
    failures: list[str] = []
    app.state.supervisor.on_failure = failures.append  # `serve` stops the server here

    async def dies() -> None:
        raise RecursionError  # e.g. a record the decoders did not guard against

    app.state.projector.run = dies
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with client_of(transport) as client:

            async def not_ready() -> dict[str, object] | None:
                answer = await client.get("/v1/readyz")
                body: dict[str, object] = answer.json()
                failed = answer.status_code == 503 and "tasks" in body["down"]  # type: ignore[operator]
                return body if failed else None

            body = await eventually_async(not_ready, within=30)
    assert body["causes"] == {"projector": "projector stopped: RecursionError"}
    assert failures == ["projector stopped: RecursionError"]
