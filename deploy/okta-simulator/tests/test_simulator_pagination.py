"""Okta-style pagination: `limit`, an `after` cursor, and `Link` headers to follow."""

from __future__ import annotations

import re
from typing import Any

import httpx
from okta_simulator.clock import ManualClock
from okta_simulator.seed import JANE_ID

LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="(?P<rel>[a-z]+)"$')


def _links(response: httpx.Response) -> dict[str, str]:
    """The `Link` headers by relation; Okta sends one header per relation."""
    links = {}
    for header in response.headers.get_list("Link"):
        match = LINK.match(header)
        assert match, header
        links[match["rel"]] = match["url"]
    return links


async def _follow(client: httpx.AsyncClient, url: str) -> list[list[dict[str, Any]]]:
    """Every page, following `rel="next"` as Okta's SDKs do."""
    pages: list[list[dict[str, Any]]] = []
    next_url: str | None = url
    while next_url:
        response = await client.get(next_url)
        assert response.status_code == 200
        pages.append(response.json())
        next_url = _links(response).get("next")
    return pages


async def test_demo_user_groups_arrive_over_two_pages(client: httpx.AsyncClient) -> None:
    first = await client.get(f"/api/v1/users/{JANE_ID}/groups")

    assert [g["profile"]["name"] for g in first.json()] == ["Everyone", "Engineering"]
    base = f"https://acme.okta.example/api/v1/users/{JANE_ID}/groups"
    engineering_id = first.json()[1]["id"]
    assert first.headers.get_list("Link") == [
        f'<{base}?limit=2>; rel="self"',
        f'<{base}?after={engineering_id}&limit=2>; rel="next"',
    ]

    second = await client.get(_links(first)["next"])

    assert [g["profile"]["name"] for g in second.json()] == ["Full-Time Employees"]
    assert second.headers.get_list("Link") == [
        f'<{base}?after={engineering_id}&limit=2>; rel="self"'
    ]


async def test_an_explicit_limit_is_honoured(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/v1/users/{JANE_ID}/groups", params={"limit": 200})

    assert len(response.json()) == 3
    assert set(_links(response)) == {"self"}
    assert _links(response)["self"].endswith("?limit=200")


async def test_links_are_built_on_the_request_base_url(app: Any) -> None:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": "SSWS test-token"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1:8010", headers=headers
    ) as local:
        response = await local.get(f"/api/v1/users/{JANE_ID}/groups")

    assert _links(response)["next"].startswith(f"http://127.0.0.1:8010/api/v1/users/{JANE_ID}/")


async def test_450_groups_arrive_complete_and_in_order(client: httpx.AsyncClient) -> None:
    names = [f"Team {n:03d}" for n in range(450)]
    created = await client.put(
        "/_sim/users",
        json={
            "email": "many.groups@example.com",
            "first_name": "Many",
            "last_name": "Groups",
            "groups": names,
        },
    )
    assert created.status_code == 201
    user_id = created.json()["id"]

    pages = await _follow(client, f"/api/v1/users/{user_id}/groups?limit=200")

    assert [len(page) for page in pages] == [200, 200, 50]
    assert [g["profile"]["name"] for page in pages for g in page] == names


async def test_default_page_size_is_configurable(client: httpx.AsyncClient) -> None:
    await client.put("/_sim/groups-page-size", json={"size": 200})

    response = await client.get(f"/api/v1/users/{JANE_ID}/groups")

    assert len(response.json()) == 3
    assert set(_links(response)) == {"self"}


async def test_user_list_paginates_and_keeps_the_search(client: httpx.AsyncClient) -> None:
    search = 'profile.email sw "j"'
    first = await client.get("/api/v1/users", params={"search": search, "limit": 1})

    self_url = _links(first)["self"]
    assert self_url == (
        "https://acme.okta.example/api/v1/users?search=profile.email%20sw%20%22j%22&limit=1"
    )
    pages = await _follow(client, self_url)
    emails = [user["profile"]["email"] for page in pages for user in page]
    assert emails == ["jane.doe@example.com", "john.smith@example.com"]


async def test_list_without_search_omits_deprovisioned_users(client: httpx.AsyncClient) -> None:
    pages = await _follow(client, "/api/v1/users?limit=3")

    statuses = [user["status"] for page in pages for user in page]
    assert len(pages) == 3
    assert len(statuses) == 7
    assert "DEPROVISIONED" not in statuses


async def test_limit_above_okta_maximum_is_capped(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users", params={"limit": 5000})

    assert response.status_code == 200
    assert _links(response)["self"].endswith("limit=200")


async def test_a_group_shows_its_latest_membership_change(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    def add(email: str) -> dict[str, Any]:
        return {"email": email, "first_name": "T", "last_name": "U", "groups": ["Movers"]}

    first = (await client.put("/_sim/users", json=add("first.mover@example.com"))).json()
    before = (await client.get(f"/api/v1/users/{first['id']}/groups")).json()
    clock.advance(3600)
    await client.put("/_sim/users", json=add("second.mover@example.com"))

    after = (await client.get(f"/api/v1/users/{first['id']}/groups")).json()

    assert before[0]["id"] == after[0]["id"]
    assert after[0]["lastMembershipUpdated"] > before[0]["lastMembershipUpdated"]
    assert after[0]["created"] == before[0]["created"]
