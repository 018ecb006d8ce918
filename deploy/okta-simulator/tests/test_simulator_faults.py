"""Scripted faults and latency: the next N calls fail, hang, or are slow."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from okta_simulator.seed import JANE_ID
from oktasim_spec import OktaSchemas

USER = f"/api/v1/users/{JANE_ID}"
GROUPS = f"/api/v1/users/{JANE_ID}/groups"


@pytest.mark.parametrize(
    ("kind", "code", "summary"),
    [
        ("500", "E0000009", "Internal Server Error"),
        ("503", "E0000010", "Service is in read only mode"),
        ("429", "E0000047", "API call exceeded rate limit due to too many requests."),
    ],
)
async def test_next_n_calls_fail_then_recover(
    client: httpx.AsyncClient, okta: OktaSchemas, kind: str, code: str, summary: str
) -> None:
    await client.post("/_sim/faults", json={"kind": kind, "count": 2})

    failures = [await client.get(USER) for _ in range(2)]
    recovered = await client.get(USER)

    for failure in failures:
        assert failure.status_code == int(kind)
        okta.error(failure.json())
        assert (failure.json()["errorCode"], failure.json()["errorSummary"]) == (code, summary)
        assert "X-Rate-Limit-Reset" in failure.headers
    assert recovered.status_code == 200
    assert (await client.get("/_sim/faults")).json() == []


async def test_scripted_429_announces_a_near_reset(client: httpx.AsyncClient) -> None:
    await client.post("/_sim/faults", json={"kind": "429", "reset_after_seconds": 2})

    response = await client.get(USER)

    assert response.headers["X-Rate-Limit-Remaining"] == "0"
    assert response.headers["X-Rate-Limit-Reset"] == str(1_767_225_610 + 2)


async def test_a_fault_can_target_one_endpoint(client: httpx.AsyncClient) -> None:
    await client.post("/_sim/faults", json={"kind": "503", "endpoint": "listUserGroups"})

    user = await client.get(USER)
    groups = await client.get(GROUPS)
    groups_again = await client.get(GROUPS)

    assert (user.status_code, groups.status_code, groups_again.status_code) == (200, 503, 200)


async def test_faults_fire_in_the_order_armed(client: httpx.AsyncClient) -> None:
    await client.post("/_sim/faults", json={"kind": "500"})
    pending = await client.post("/_sim/faults", json={"kind": "503", "count": 2})
    assert [(f["kind"], f["count"]) for f in pending.json()] == [("500", 1), ("503", 2)]

    statuses = [(await client.get(USER)).status_code for _ in range(4)]

    assert statuses == [500, 503, 503, 200]


async def test_clearing_faults(client: httpx.AsyncClient) -> None:
    await client.post("/_sim/faults", json={"kind": "500", "count": 5})

    assert (await client.delete("/_sim/faults")).status_code == 204

    assert (await client.get(USER)).status_code == 200


async def test_timeout_hangs_longer_than_the_client_waits(client: httpx.AsyncClient) -> None:
    await client.post("/_sim/faults", json={"kind": "timeout", "hang_seconds": 30})

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.get(USER), timeout=0.2)
    answered = await client.get(USER)

    assert answered.status_code == 200
    log = (await client.get("/_sim/requests")).json()
    assert [(r["path"], r["status"]) for r in log] == [(USER, None), (USER, 200)]


async def test_latency_delays_calls(client: httpx.AsyncClient) -> None:
    latency = await client.put("/_sim/latency", json={"ms": 150, "endpoint": "getUser"})
    assert latency.json() == {"default": 0, "getUser": 150}
    loop = asyncio.get_running_loop()

    started = loop.time()
    await client.get(USER)
    slow = loop.time() - started
    started = loop.time()
    await client.get(GROUPS)
    fast = loop.time() - started

    assert slow >= 0.15
    assert fast < 0.15


async def test_invalid_fault_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post("/_sim/faults", json={"kind": "418"})

    assert response.status_code == 422
