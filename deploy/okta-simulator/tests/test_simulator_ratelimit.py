"""Per-endpoint rate limits in minute windows, reported the way Okta reports them."""

from __future__ import annotations

import httpx
from okta_simulator.clock import ManualClock
from okta_simulator.seed import JANE_ID
from oktasim_spec import OktaSchemas

WINDOW_END = "1767225660"  # the clock starts at ...610, ten seconds into the window


async def test_limit_then_429_with_headers(client: httpx.AsyncClient, okta: OktaSchemas) -> None:
    configured = await client.put("/_sim/rate-limits", json={"endpoint": "listUsers", "limit": 3})
    assert {"endpoint": "listUsers", "limit": 3, "window_seconds": 60} in configured.json()

    remaining = []
    for _ in range(3):
        ok = await client.get("/api/v1/users", params={"search": 'status eq "ACTIVE"'})
        assert ok.status_code == 200
        remaining.append(ok.headers["X-Rate-Limit-Remaining"])
    over = await client.get("/api/v1/users", params={"search": 'status eq "ACTIVE"'})

    assert remaining == ["2", "1", "0"]
    assert over.status_code == 429
    body = over.json()
    okta.error(body)
    assert body["errorCode"] == "E0000047"
    assert body["errorSummary"] == "API call exceeded rate limit due to too many requests."
    assert over.headers["X-Rate-Limit-Limit"] == "3"
    assert over.headers["X-Rate-Limit-Remaining"] == "0"
    assert over.headers["X-Rate-Limit-Reset"] == WINDOW_END
    assert over.headers["Content-Type"] == "application/json"


async def test_endpoints_have_separate_buckets(client: httpx.AsyncClient) -> None:
    await client.put("/_sim/rate-limits", json={"endpoint": "listUserGroups", "limit": 0})

    groups = await client.get(f"/api/v1/users/{JANE_ID}/groups")
    user = await client.get(f"/api/v1/users/{JANE_ID}")

    assert groups.status_code == 429
    assert user.status_code == 200
    assert user.headers["X-Rate-Limit-Limit"] == "1200"
    assert user.headers["X-Rate-Limit-Remaining"] == "1199"


async def test_the_window_resets_at_the_announced_time(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    await client.put("/_sim/rate-limits", json={"endpoint": "getUser", "limit": 1})
    assert (await client.get(f"/api/v1/users/{JANE_ID}")).status_code == 200
    throttled = await client.get(f"/api/v1/users/{JANE_ID}")
    assert throttled.status_code == 429

    clock.now = float(throttled.headers["X-Rate-Limit-Reset"])
    again = await client.get(f"/api/v1/users/{JANE_ID}")

    assert again.status_code == 200
    assert again.headers["X-Rate-Limit-Remaining"] == "0"
    assert int(again.headers["X-Rate-Limit-Reset"]) == int(WINDOW_END) + 60


async def test_reset_restores_configured_limits(client: httpx.AsyncClient) -> None:
    await client.put("/_sim/rate-limits", json={"endpoint": "listAppLinks", "limit": 0})
    assert (await client.get(f"/api/v1/users/{JANE_ID}/appLinks")).status_code == 429

    assert (await client.post("/_sim/reset")).status_code == 204

    assert (await client.get(f"/api/v1/users/{JANE_ID}/appLinks")).status_code == 200
