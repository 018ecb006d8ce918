"""The plain route that serves the webhook answers like the `APIRoute` documenting it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from ingest_service.app import create_app
from ingest_support import MemorySink, loaded_index, make_settings


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(), sink=MemorySink(), deliveries=loaded_index())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
        yield client


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
async def test_only_post_is_a_webhook(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/v1/hr/webhook")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


async def test_openapi_still_documents_the_webhook_once(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths["/v1/hr/webhook"]) == {"post"}
