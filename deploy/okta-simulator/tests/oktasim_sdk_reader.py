"""Read a user from the simulator with Okta's SDK for Python; print what it got as JSON.

    python oktasim_sdk_reader.py ORG_URL TOKEN EMAIL

Run by the SDK's own interpreter (`oktasim_sdk_env`), never imported by the tests: the test
environment has no `okta`. Set `OKTA_TESTING_TESTINGDISABLEHTTPSCHECK=true` for an `http://`
org URL (the SDK refuses one otherwise; its `testing` section cannot be passed to `Client`).

What 3.4.6 offers, and so what this uses:
- the generated `list_users(search=)`, `list_user_groups(id)`, `list_app_links(id)`: they
  send `Authorization: SSWS<token>` (no space), parse into the SDK's pydantic models, and
  retry a 429 after `X-Rate-Limit-Reset` (`rateLimit.maxRetries`);
- for every page of a user's groups (the first also comes from `list_user_groups`), the
  SDK's page follower `OktaAPIResponse` with `has_next()`/`next()`, which parses
  `Link: rel="next"` and sends `SSWS <token>`. The generated `list_user_groups` takes no
  `after`, and the `ApiResponse` it returns has no `has_next()` (the SDK README's pagination
  example does not work in 3.4.6).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from okta.api_response import OktaAPIResponse
from okta.client import Client
from okta.models import Group


def _checked(error: object) -> None:
    if error is not None:
        raise SystemExit(f"okta SDK error: {error!r}")


def _group_name(group: Group) -> str:
    name: str = group.to_dict()["profile"]["name"]
    return name


async def _group_pages(client: Client, user_id: str) -> list[list[str]]:
    """Every page of the user's groups, as the SDK's page follower walks them."""
    executor = client.get_request_executor()
    request, error = await executor.create_request("GET", f"/api/v1/users/{user_id}/groups", {}, {})
    _checked(error)
    _, response, body, error = await executor.fire_request(request)
    _checked(error)
    if response.status != 200:
        raise SystemExit(f"listUserGroups answered {response.status}: {body}")
    page = OktaAPIResponse(executor, request, response, body)
    pages = [page.get_body()]
    while page.has_next():
        items, error = await page.next()
        _checked(error)
        pages.append(items)
    return [[_group_name(Group.from_dict(item)) for item in items] for items in pages]


async def read(org_url: str, token: str, email: str) -> dict[str, Any]:
    client = Client({"orgUrl": org_url, "token": token, "rateLimit": {"maxRetries": 2}})

    users, _, error = await client.list_users(search=f'profile.email eq "{email}"')
    _checked(error)
    user_id = users[0].id
    first_page, _, error = await client.list_user_groups(user_id)
    _checked(error)
    group_pages = await _group_pages(client, user_id)
    app_links, _, error = await client.list_app_links(user_id)
    _checked(error)

    return {
        "users": [
            {"id": u.id, "email": u.profile.email, "login": u.profile.login, "status": u.status}
            for u in users
        ],
        "first_group_page": [_group_name(group) for group in first_page],
        "group_pages": group_pages,
        "app_links": [{"label": link.label, "app_name": link.app_name} for link in app_links],
    }


if __name__ == "__main__":
    org_url, token, email = sys.argv[1:4]
    print(json.dumps(asyncio.run(read(org_url, token, email))))
