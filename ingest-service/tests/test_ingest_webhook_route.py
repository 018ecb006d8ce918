"""The webhook's route: served past FastAPI by `IngestApp`, documented (and served too,
where the router is mounted in a plain FastAPI app) by its `APIRoute`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from ingest_service.app import create_app
from ingest_service.webhook import router
from ingest_support import SEED, MemorySink, loaded_index, make_settings


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(), sink=MemorySink(), deliveries=loaded_index())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
        yield client


@pytest.mark.parametrize("path", ["/v1/hr/webhook", "/v1/hr/webhooks:batch"])
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
async def test_only_post_is_a_webhook(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


async def test_openapi_still_documents_the_webhook_once(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths["/v1/hr/webhook"]) == {"post"}


async def test_the_documented_route_serves_the_same_answers_when_mounted_alone() -> None:
    sink = MemorySink()
    ingest = create_app(make_settings(), sink=sink, deliveries=loaded_index())
    plain = FastAPI()
    plain.include_router(router)
    async with LifespanManager(ingest):
        plain.state.services = ingest.state.services
        transport = httpx.ASGITransport(app=plain)
        async with httpx.AsyncClient(transport=transport, base_url="http://plain") as client:
            first = await client.post("/v1/hr/webhook", json=SEED, headers={"webhook-id": "m1"})
            again = await client.post("/v1/hr/webhook", json=SEED, headers={"webhook-id": "m1"})
            refused = await client.post("/v1/hr/webhook", content=b"{}", headers={
                "content-type": "application/json"})  # fmt: skip

    assert first.status_code == again.status_code == 202
    assert first.json()["event_id"] == again.json()["event_id"] == sink.events[0].id
    assert len(sink.events) == 1
    assert refused.status_code == 422
