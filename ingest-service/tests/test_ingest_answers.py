"""`/openapi.json` documents every answer each route gives, and none it cannot give.

`ANSWERS` is what each route can answer, read from the code: the webhook's `answer_webhook`
(served on the fast path past FastAPI: no `422` of FastAPI's own), the batch's
`answer_batch` (its route takes no parameter FastAPI would check), the health router. Every
refusal in it is provoked below, with an in-memory sink (no broker), and must come with the
headers and the body its documentation promises. An unexpected failure's `500` is not
documented: it is a bug, which `test_ingest_openapi`'s generated requests look for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from ingest_service.acceptor import Headers
from ingest_service.app import create_app
from ingest_service.delivery_index import DeliveryIndex
from ingest_service.kafka_sink import EventSink
from ingest_service.settings import Settings
from ingest_support import SEED, MemorySink, loaded_index, make_settings
from onboarding_devstack.openapi_answers import assert_documented, documented_answers
from onboarding_runtime.kafka import PublishError

WEBHOOK = ("POST", "/v1/hr/webhook")
BATCH = ("POST", "/v1/hr/webhooks:batch")
READYZ = ("GET", "/v1/readyz")
ANSWERS = {
    WEBHOOK: {202, 401, 413, 415, 422, 429, 503},
    BATCH: {207, 401, 413, 415, 422, 429, 503},
    ("GET", "/v1/healthz"): {200},
    READYZ: {200, 503},
    ("GET", "/metrics"): {200},
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The document `/openapi.json` serves."""
    return create_app(make_settings(), sink=MemorySink(), deliveries=loaded_index()).openapi()


class BrokerDown(MemorySink):
    """A fake at the `EventSink` port whose broker refuses every record."""

    def enqueue(self, key: str, value: bytes, headers: Headers) -> asyncio.Future[None]:
        refused: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        refused.set_exception(PublishError("broker down"))
        return refused

    async def healthy(self) -> bool:
        return False


@asynccontextmanager
async def serving(
    settings: Settings | None = None,
    sink: EventSink | None = None,
    deliveries: DeliveryIndex | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings or make_settings(),
        sink=sink or MemorySink(),
        deliveries=loaded_index() if deliveries is None else deliveries,
    )
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            yield client


async def post(client: httpx.AsyncClient, body: bytes, content_type: str) -> httpx.Response:
    return await client.post(WEBHOOK[1], content=body, headers={"content-type": content_type})


async def without_the_api_key() -> httpx.Response:
    async with serving(make_settings(api_key="the-key")) as client:
        return await client.post(WEBHOOK[1], json=SEED)


async def too_large() -> httpx.Response:
    async with serving() as client:
        return await post(client, b"{" + b" " * 64 * 1024 + b"}", "application/json")


async def not_json() -> httpx.Response:
    async with serving() as client:
        return await post(client, b"employee_id=1", "text/plain")


async def invalid() -> httpx.Response:
    async with serving() as client:
        return await post(client, b'{"employee_id": "12 345"}', "application/json")


async def over_the_rate() -> httpx.Response:
    # The burst, 1,000 records, shared with the batch: 999 in a batch, then two webhooks.
    async with serving(make_settings(rate_limit_per_s=0.001)) as client:
        assert (await client.post(BATCH[1], json=[SEED] * 999)).status_code == 207
        assert (await client.post(WEBHOOK[1], json=SEED)).status_code == 202
        return await client.post(WEBHOOK[1], json=SEED)


async def broker_down() -> httpx.Response:
    async with serving(sink=BrokerDown()) as client:
        return await client.post(WEBHOOK[1], json=SEED)


async def not_ready() -> httpx.Response:
    async with serving(sink=BrokerDown()) as client:
        return await client.get(READYZ[1])


async def batch_without_the_api_key() -> httpx.Response:
    async with serving(make_settings(api_key="the-key")) as client:
        return await client.post(BATCH[1], json=[SEED])


async def batch_too_large() -> httpx.Response:
    async with serving() as client:
        return await client.post(BATCH[1], json=[SEED] * 1001)


async def batch_not_json() -> httpx.Response:
    async with serving() as client:
        return await client.post(BATCH[1], content=b"a,b", headers={"content-type": "text/csv"})


async def batch_not_an_array() -> httpx.Response:
    async with serving() as client:
        return await client.post(BATCH[1], json=SEED)


async def batch_over_the_rate() -> httpx.Response:
    async with serving(make_settings(rate_limit_per_s=0.001)) as client:
        assert (await client.post(BATCH[1], json=[SEED] * 600)).status_code == 207
        return await client.post(BATCH[1], json=[SEED] * 401)


async def batch_while_the_deliveries_load() -> httpx.Response:
    loading = DeliveryIndex(retention_s=3600, max_entries=1000)  # not `ready`
    async with serving(deliveries=loading) as client:
        return await client.post(BATCH[1], json=[SEED], headers={"webhook-id": "b1"})


PROVOKED: dict[tuple[str, str, int], Callable[[], Awaitable[httpx.Response]]] = {
    (*WEBHOOK, 401): without_the_api_key,
    (*WEBHOOK, 413): too_large,
    (*WEBHOOK, 415): not_json,
    (*WEBHOOK, 422): invalid,
    (*WEBHOOK, 429): over_the_rate,
    (*WEBHOOK, 503): broker_down,
    (*BATCH, 401): batch_without_the_api_key,
    (*BATCH, 413): batch_too_large,
    (*BATCH, 415): batch_not_json,
    (*BATCH, 422): batch_not_an_array,
    (*BATCH, 429): batch_over_the_rate,
    (*BATCH, 503): batch_while_the_deliveries_load,
    (*READYZ, 503): not_ready,
}


def test_the_document_declares_exactly_what_each_route_answers(spec: dict[str, Any]) -> None:
    assert documented_answers(spec) == ANSWERS


def test_every_refusal_the_document_declares_is_provoked_here() -> None:
    refusals = {(*route, s) for route, statuses in ANSWERS.items() for s in statuses if s >= 300}
    assert set(PROVOKED) == refusals


@pytest.mark.parametrize("answer", sorted(PROVOKED), ids=lambda a: f"{a[0]} {a[1]} {a[2]}")
async def test_each_refusal_happens_as_documented(
    answer: tuple[str, str, int], spec: dict[str, Any]
) -> None:
    method, path, status = answer
    response = await PROVOKED[answer]()

    assert response.status_code == status
    assert_documented(spec, method, path, response)
