"""`/openapi.json` documents every answer each route gives, and none it cannot give.

`ANSWERS` is what each route can answer, read from the code: `read_auth` (401), the reads
(404; 304 for the user), the app's handler of a database error (503), the health router.
No `422`: the reads' parameters are plain text nothing refuses (`openapi.py`). Every
refusal in it is provoked below, on the real broker and database (or with the database
away), and must come with the headers and the body its documentation promises. An
unexpected failure's `500` is not documented: it is a bug.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from onboarding_devstack.openapi_answers import assert_documented, documented_answers
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_devstack.processes import free_port
from query_service.app import create_app
from query_service.settings import Settings
from query_support import READ_KEY, Publisher, client_of, make_settings, running

pytestmark = pytest.mark.integration

USER = ("GET", "/v1/users/{employee_id}")
STATUS = ("GET", "/v1/users/{employee_id}/status")
READYZ = ("GET", "/v1/readyz")
ANSWERS = {
    USER: {200, 304, 401, 404, 503},
    STATUS: {200, 401, 404, 503},
    ("GET", "/v1/healthz"): {200},
    READYZ: {200, 503},
    ("GET", "/metrics"): {200},
}
UNREACHABLE = {"mongodb_url": "mongodb://127.0.0.1:9/x", "kafka_bootstrap_servers": "127.0.0.1:9"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The document `/openapi.json` serves."""
    return create_app(make_settings(read_api_key=READ_KEY, **UNREACHABLE)).openapi()


@pytest.fixture(scope="module")
async def database_away(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The service, with the read key, on the broker and a database nobody listens for."""
    away = make_settings(
        **{
            **settings.model_dump(),
            "mongodb_url": f"mongodb://127.0.0.1:{free_port()}/away",
            "query_group_id": f"{settings.query_group_id}-away",
        }
    )
    async with running(away) as transport, client_of(transport, **{"X-API-Key": READ_KEY}) as c:
        yield c


@dataclass(frozen=True)
class Clients:
    api: httpx.AsyncClient  # sends the read key
    anonymous: httpx.AsyncClient
    database_away: httpx.AsyncClient
    publish: Publisher
    employee_id: str  # nobody else's


async def unauthorized_user(c: Clients) -> httpx.Response:
    return await c.anonymous.get(f"/v1/users/{c.employee_id}")


async def unauthorized_status(c: Clients) -> httpx.Response:
    return await c.anonymous.get(f"/v1/users/{c.employee_id}/status")


async def unknown_user(c: Clients) -> httpx.Response:
    return await c.api.get(f"/v1/users/{c.employee_id}")


async def unknown_status(c: Clients) -> httpx.Response:
    return await c.api.get(f"/v1/users/{c.employee_id}/status")


async def unchanged_user(c: Clients) -> httpx.Response:
    await c.publish.enriched(await c.publish.hr(c.employee_id))

    async def served() -> httpx.Response | None:
        response = await c.api.get(f"/v1/users/{c.employee_id}")
        return response if response.status_code == 200 else None

    first = await eventually(served)
    return await c.api.get(
        f"/v1/users/{c.employee_id}", headers={"If-None-Match": first.headers["ETag"]}
    )


async def user_without_database(c: Clients) -> httpx.Response:
    return await c.database_away.get(f"/v1/users/{c.employee_id}")


async def status_without_database(c: Clients) -> httpx.Response:
    return await c.database_away.get(f"/v1/users/{c.employee_id}/status")


async def not_ready(c: Clients) -> httpx.Response:
    return await c.database_away.get(READYZ[1])


PROVOKED: dict[tuple[str, str, int], Callable[[Clients], Awaitable[httpx.Response]]] = {
    (*USER, 304): unchanged_user,
    (*USER, 401): unauthorized_user,
    (*USER, 404): unknown_user,
    (*USER, 503): user_without_database,
    (*STATUS, 401): unauthorized_status,
    (*STATUS, 404): unknown_status,
    (*STATUS, 503): status_without_database,
    (*READYZ, 503): not_ready,
}


def test_the_document_declares_exactly_what_each_route_answers(spec: dict[str, Any]) -> None:
    assert documented_answers(spec) == ANSWERS


def test_every_refusal_the_document_declares_is_provoked_here() -> None:
    refusals = {(*route, s) for route, statuses in ANSWERS.items() for s in statuses if s >= 300}
    assert set(PROVOKED) == refusals


@pytest.mark.parametrize("answer", sorted(PROVOKED), ids=lambda a: f"{a[0]} {a[1]} {a[2]}")
async def test_each_refusal_happens_as_documented(
    answer: tuple[str, str, int],
    spec: dict[str, Any],
    api: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    database_away: httpx.AsyncClient,
    publish: Publisher,
    unique_name: str,
) -> None:
    method, path, status = answer
    clients = Clients(api, anonymous, database_away, publish, unique_name)
    response = await PROVOKED[answer](clients)

    assert response.status_code == status
    assert_documented(spec, method, path, response)
