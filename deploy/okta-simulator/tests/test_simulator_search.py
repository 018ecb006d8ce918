"""`search` and `filter` expressions, escaping, and users that appear later."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from okta_simulator.clock import ManualClock
from okta_simulator.seed import JANE_EMAIL
from oktasim_spec import OktaSchemas


async def _emails(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get("/api/v1/users", params=params)
    assert response.status_code == 200, response.json()
    return [user["profile"]["email"] for user in response.json()]


def _quoted(value: str) -> str:
    """A search string literal, escaped as a client must escape it."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _add(client: httpx.AsyncClient, email: str, **extra: Any) -> dict[str, Any]:
    body = {"email": email, "first_name": "Test", "last_name": "User", **extra}
    response = await client.put("/_sim/users", json=body)
    assert response.status_code == 201, response.json()
    user: dict[str, Any] = response.json()
    return user


@pytest.mark.parametrize("email", [JANE_EMAIL, "JANE.DOE@EXAMPLE.COM", "Jane.Doe@Example.com"])
async def test_email_is_compared_case_insensitively(client: httpx.AsyncClient, email: str) -> None:
    assert await _emails(client, search=f"profile.email eq {_quoted(email)}") == [JANE_EMAIL]


async def test_no_match_is_an_empty_list(client: httpx.AsyncClient) -> None:
    assert await _emails(client, search='profile.email eq "nobody@example.com"') == []


@pytest.mark.parametrize(
    "email", ['o"brien@example.com', "back\\slash@example.com", 'both\\"x"@example.com']
)
async def test_escaped_quotes_and_backslashes(client: httpx.AsyncClient, email: str) -> None:
    await _add(client, email)
    await _add(client, "obrien@example.com")

    assert await _emails(client, search=f"profile.email eq {_quoted(email)}") == [email]


async def test_operators_are_case_insensitive_and_combine(client: httpx.AsyncClient) -> None:
    expression = '(profile.department EQ "Engineering" Or status eq "STAGED") and id pr'

    assert await _emails(client, search=expression) == [
        JANE_EMAIL,
        "john.smith@example.com",
        "liam.garcia@example.com",
    ]


async def test_other_operators(client: httpx.AsyncClient) -> None:
    assert await _emails(client, search='profile.firstName sw "Em"') == ["emma.wilson@example.com"]
    assert await _emails(client, search='profile.lastName co "ARTI"') == ["noah.martin@example.com"]
    assert await _emails(client, search='lastUpdated gt "2030-01-01T00:00:00.000Z"') == []


async def test_search_includes_deprovisioned_users(client: httpx.AsyncClient) -> None:
    emails = await _emails(client, search='status eq "DEPROVISIONED"')

    assert emails == ["olivia.brown@example.com"]


async def test_filter_compares_values_exactly(client: httpx.AsyncClient) -> None:
    assert await _emails(client, filter=f'profile.login eq "{JANE_EMAIL}"') == [JANE_EMAIL]
    assert await _emails(client, filter='profile.login eq "JANE.DOE@EXAMPLE.COM"') == []


async def test_q_matches_name_prefixes(client: httpx.AsyncClient) -> None:
    assert await _emails(client, q="ja") == [JANE_EMAIL]


@pytest.mark.parametrize(
    "expression",
    [
        'profile.email eq "unterminated',
        'profile.email ne "x@example.com"',
        'profile.email eq "a" and',
        '(profile.email eq "a"',
        "profile.email eq unquoted@example.com",
        'password eq "secret"',
        'profile.department co "Eng"',
        "",
    ],
)
async def test_bad_search_is_okta_400(
    client: httpx.AsyncClient, okta: OktaSchemas, expression: str
) -> None:
    response = await client.get("/api/v1/users", params={"search": expression})

    assert response.status_code == 400
    body = response.json()
    okta.error(body)
    assert (body["errorCode"], body["errorSummary"]) == ("E0000031", "Invalid search criteria.")
    assert body["errorCauses"]
    assert body["errorCauses"][0]["errorSummary"]


async def test_user_appears_after_a_delay(client: httpx.AsyncClient, clock: ManualClock) -> None:
    user = await _add(client, "late.joiner@example.com", appears_after_seconds=30)
    search = {"search": 'profile.email eq "late.joiner@example.com"'}

    clock.advance(29)
    assert await _emails(client, **search) == []
    assert (await client.get(f"/api/v1/users/{user['id']}")).status_code == 404
    assert (await client.get(f"/api/v1/users/{user['id']}/groups")).status_code == 404

    clock.advance(1)
    assert await _emails(client, **search) == ["late.joiner@example.com"]
    assert (await client.get(f"/api/v1/users/{user['id']}")).status_code == 200


async def test_search_index_lags_behind_lookup_by_id(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    user = await _add(client, "eventual@example.com", searchable_after_seconds=5)
    search = {"search": 'profile.email eq "eventual@example.com"'}

    assert (await client.get(f"/api/v1/users/{user['id']}")).status_code == 200
    assert await _emails(client, **search) == []

    clock.advance(5)
    assert await _emails(client, **search) == ["eventual@example.com"]


async def test_search_follows_a_changed_then_removed_email(client: httpx.AsyncClient) -> None:
    user = await _add(client, "before@example.com")
    body = {"id": user["id"], "email": "after@example.com", "first_name": "T", "last_name": "U"}
    assert (await client.put("/_sim/users", json=body)).status_code == 200

    assert await _emails(client, search='profile.email eq "before@example.com"') == []
    assert await _emails(client, search='profile.email eq "AFTER@example.com"') == [
        "after@example.com"
    ]
    assert (await client.delete(f"/_sim/users/{user['id']}")).status_code == 204
    assert await _emails(client, search='profile.email eq "after@example.com"') == []


async def test_users_sharing_an_email_are_all_found_in_list_order(
    client: httpx.AsyncClient,
) -> None:
    first = await _add(client, "shared@example.com", login="first@example.com")
    second = await _add(client, "Shared@Example.com", login="second@example.com")

    response = await client.get(
        "/api/v1/users", params={"search": 'profile.email eq "shared@example.com"'}
    )

    assert [user["id"] for user in response.json()] == [first["id"], second["id"]]


async def test_a_changed_login_no_longer_names_the_user(client: httpx.AsyncClient) -> None:
    user = await _add(client, "mover@example.com", login="old.login@example.com")
    body = {
        "id": user["id"],
        "email": "mover@example.com",
        "login": "new.login@example.com",
        "first_name": "T",
        "last_name": "U",
    }
    await client.put("/_sim/users", json=body)

    assert (await client.get("/api/v1/users/old.login@example.com")).status_code == 404
    found = await client.get("/api/v1/users/new.login@example.com")
    assert found.json()["id"] == user["id"]
    # The old login is free again: a user who takes it is a new user, not a replacement.
    newcomer = await _add(client, "other@example.com", login="old.login@example.com")
    assert newcomer["id"] != user["id"]
