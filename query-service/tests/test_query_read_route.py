"""The plain route that serves `GET /v1/users/{id}` answers like the `APIRoute` documenting it.

No broker or database needed: these requests are decided before any read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from query_service.app import create_app
from query_support import READ_KEY, make_settings

UNREACHABLE = {"mongodb_url": "mongodb://127.0.0.1:9/x", "kafka_bootstrap_servers": "127.0.0.1:9"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(read_api_key=READ_KEY, **UNREACHABLE))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://query") as client:
        yield client


@pytest.mark.parametrize("method", ["HEAD", "POST", "PUT", "DELETE"])
async def test_only_get_reads_a_user(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/v1/users/12345")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


async def test_a_read_without_the_key_is_refused_before_the_database(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/users/12345", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Missing or invalid read API key"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_openapi_still_documents_the_read_and_its_parameters(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    read = spec["paths"]["/v1/users/{employee_id}"]
    assert set(read) == {"get"}
    params = {(p["in"], p["name"]) for p in read["get"]["parameters"]}
    assert params == {("path", "employee_id"), ("header", "if-none-match")}
