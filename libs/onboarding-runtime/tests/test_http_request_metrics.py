"""`RequestMetrics`: requests counted and timed by route template and status, never by path."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from onboarding_runtime.http_metrics import UNMATCHED, RequestMetrics
from prometheus_client import REGISTRY


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        if thing_id == "missing":
            raise HTTPException(status_code=404, detail="no such thing")
        return {"id": thing_id}

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("boom")

    async def plain(request: object) -> JSONResponse:  # a Starlette route, as query's hot read
        return JSONResponse({"plain": True})

    app.add_route("/plain/{thing_id}", plain, methods=["GET"])
    app.add_middleware(RequestMetrics, routes=app.routes)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        yield http


def _count(route: str, status: int) -> float:
    labels = {"route": route, "status": str(status)}
    return REGISTRY.get_sample_value("onboarding_http_request_seconds_count", labels) or 0.0


async def test_requests_are_counted_by_template_and_status(client: httpx.AsyncClient) -> None:
    before = {
        key: _count(*key)
        for key in [
            ("/things/{thing_id}", 200),
            ("/things/{thing_id}", 404),
            ("/plain/{thing_id}", 200),
            ("/plain/{thing_id}", 405),
            ("/broken", 500),
            (UNMATCHED, 404),
        ]
    }

    assert (await client.get("/things/employee-4711")).status_code == 200
    assert (await client.get("/things/employee-4712")).status_code == 200
    assert (await client.get("/things/missing")).status_code == 404
    assert (await client.get("/plain/employee-4713")).status_code == 200
    assert (await client.post("/plain/employee-4713")).status_code == 405
    assert (await client.get("/broken")).status_code == 500
    assert (await client.get("/nowhere/employee-4714")).status_code == 404

    after = {key: _count(*key) for key in before}
    assert {key: after[key] - before[key] for key in before} == {
        ("/things/{thing_id}", 200): 2,
        ("/things/{thing_id}", 404): 1,
        ("/plain/{thing_id}", 200): 1,
        ("/plain/{thing_id}", 405): 1,
        ("/broken", 500): 1,
        (UNMATCHED, 404): 1,
    }


async def test_no_path_of_a_request_becomes_a_label(client: httpx.AsyncClient) -> None:
    await client.get("/things/employee-4799")
    await client.get("/plain/employee-4799")
    await client.get("/nowhere/employee-4799")

    routes = {
        sample.labels["route"]
        for metric in REGISTRY.collect()
        if metric.name == "onboarding_http_request_seconds"
        for sample in metric.samples
    }
    assert routes
    assert not [route for route in routes if "employee-4799" in route]


async def test_the_latency_is_observed_in_the_histogram(client: httpx.AsyncClient) -> None:
    labels = {"route": "/things/{thing_id}", "status": "200"}
    before = REGISTRY.get_sample_value("onboarding_http_request_seconds_sum", labels) or 0.0
    count = _count("/things/{thing_id}", 200)

    await client.get("/things/a")

    assert _count("/things/{thing_id}", 200) == count + 1
    after = REGISTRY.get_sample_value("onboarding_http_request_seconds_sum", labels) or 0.0
    assert after > before
