"""`/openapi.json` documents every answer each route gives, and none it cannot give.

`ANSWERS` is what each route can answer, read from the code: the preview's
`Previewer.answer` (every refusal in the order it checks them, then `200`), the health
router. Every refusal in it is provoked below, on the real broker and the Okta simulator
(or with the broker away), and must come with the headers and the body its documentation
promises. An unexpected failure's `500` is not documented: it is a bug.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from enrich_service.app import create_app
from enrich_service.preview import PREVIEW_PATH
from enrich_support import ApiFactory, Simulator, enrich_settings, unique_person
from onboarding_devstack.openapi_answers import assert_documented, documented_answers
from onboarding_devstack.processes import free_port

pytestmark = pytest.mark.integration

PREVIEW = ("POST", PREVIEW_PATH)
READYZ = ("GET", "/v1/readyz")
ANSWERS = {
    PREVIEW: {200, 401, 404, 413, 415, 422, 429, 503},
    ("GET", "/v1/healthz"): {200},
    READYZ: {200, 503},
    ("GET", "/metrics"): {200},
}
KEY = {"X-API-Key": "the-key"}
# Production as an operator runs it without `API_KEY`: it starts, with the preview off.
PRODUCTION = {
    "environment": "production",
    "pii_hash_key": "k" * 32,
    "okta_org_url": "https://acme.okta.example",
    "okta_api_token": "00a-real-token",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The document `/openapi.json` serves."""
    settings = enrich_settings("127.0.0.1:9", "http://127.0.0.1:9", "spec", api_key="the-key")
    return create_app(settings).openapi()


@dataclass(frozen=True)
class Context:
    enrich_api: ApiFactory
    sim: Simulator

    def record(self) -> dict[str, str]:
        employee, email = unique_person()
        return {"employee_id": employee, "first_name": "A", "last_name": "B", "email": email}


async def without_the_key(c: Context) -> httpx.Response:
    async with c.enrich_api(api_key="the-key") as client:
        return await client.post(PREVIEW_PATH, json=c.record())


async def disabled(c: Context) -> httpx.Response:
    async with c.enrich_api(**PRODUCTION) as client:
        return await client.post(PREVIEW_PATH, json=c.record(), headers=KEY)


async def too_large(c: Context) -> httpx.Response:
    async with c.enrich_api(api_key="the-key") as client:
        body = b"{" + b" " * 64 * 1024 + b"}"
        headers = {**KEY, "content-type": "application/json"}
        return await client.post(PREVIEW_PATH, content=body, headers=headers)


async def not_json(c: Context) -> httpx.Response:
    async with c.enrich_api(api_key="the-key") as client:
        headers = {**KEY, "content-type": "text/plain"}
        return await client.post(PREVIEW_PATH, content=b"employee_id=1", headers=headers)


async def invalid(c: Context) -> httpx.Response:
    async with c.enrich_api(api_key="the-key") as client:
        return await client.post(PREVIEW_PATH, json={"employee_id": "12 345"}, headers=KEY)


async def budget_short(c: Context) -> httpx.Response:
    record = c.record()
    await c.sim.put_user(record["email"])
    await c.sim.rate_limit("listUsers", 1)
    async with c.enrich_api(api_key="the-key") as client:
        assert (await client.post(PREVIEW_PATH, json=record, headers=KEY)).status_code == 200
        return await client.post(PREVIEW_PATH, json=record, headers=KEY)


async def okta_down(c: Context) -> httpx.Response:
    await c.sim.fault("503", count=1000)
    async with c.enrich_api(api_key="the-key") as client:
        return await client.post(PREVIEW_PATH, json=c.record(), headers=KEY)


async def not_ready(c: Context) -> httpx.Response:
    # Start-up waits (bounded) for the erasure log and the published versions, then serves.
    async with c.enrich_api(kafka_bootstrap_servers=f"127.0.0.1:{free_port()}") as client:
        return await client.get(READYZ[1])


PROVOKED: dict[tuple[str, str, int], Callable[[Context], Awaitable[httpx.Response]]] = {
    (*PREVIEW, 401): without_the_key,
    (*PREVIEW, 404): disabled,
    (*PREVIEW, 413): too_large,
    (*PREVIEW, 415): not_json,
    (*PREVIEW, 422): invalid,
    (*PREVIEW, 429): budget_short,
    (*PREVIEW, 503): okta_down,
    (*READYZ, 503): not_ready,
}


def test_the_document_declares_exactly_what_each_route_answers(spec: dict[str, Any]) -> None:
    assert documented_answers(spec) == ANSWERS


def test_every_refusal_the_document_declares_is_provoked_here() -> None:
    refusals = {(*route, s) for route, statuses in ANSWERS.items() for s in statuses if s >= 300}
    assert set(PROVOKED) == refusals


def test_the_preview_asks_for_the_webhooks_key(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]

    assert {name: (s["type"], s["in"], s["name"]) for name, s in schemes.items()} == {
        "webhookApiKey": ("apiKey", "header", "X-API-Key")
    }
    assert spec["paths"][PREVIEW_PATH]["post"]["security"] == [{"webhookApiKey": []}]


@pytest.mark.parametrize("answer", sorted(PROVOKED), ids=lambda a: f"{a[0]} {a[1]} {a[2]}")
async def test_each_refusal_happens_as_documented(
    answer: tuple[str, str, int],
    spec: dict[str, Any],
    enrich_api: ApiFactory,
    sim: Simulator,
) -> None:
    method, path, status = answer
    response = await PROVOKED[answer](Context(enrich_api, sim))

    assert response.status_code == status
    assert_documented(spec, method, path, response)
