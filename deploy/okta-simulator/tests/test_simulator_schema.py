"""Responses of the four operations match Okta's own schemas and examples."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from jsonschema import ValidationError
from okta_simulator.org import UserSpec
from okta_simulator.seed import JANE_EMAIL, JANE_ID, demo_users
from oktasim_spec import OktaSchemas

OKTA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
USER_TIMES = (
    "created",
    "activated",
    "statusChanged",
    "lastLogin",
    "lastUpdated",
    "passwordChanged",
)


async def _search(client: httpx.AsyncClient, email: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/users", params={"search": f'profile.email eq "{email}"'})
    assert response.status_code == 200
    body: list[dict[str, Any]] = response.json()
    return body


def _assert_okta_times(obj: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        assert obj[name] is None or OKTA_TIME.match(obj[name]), (name, obj[name])


async def test_search_result_is_a_list_of_okta_users(
    client: httpx.AsyncClient, okta: OktaSchemas
) -> None:
    body = await _search(client, JANE_EMAIL)

    okta.response("/api/v1/users", body)
    [jane] = body
    # Same properties, in the same places, as Okta's own search example.
    assert set(jane) == set(okta.example("ListUsersQResponse")[0])
    assert set(jane) <= okta.properties("User")
    assert set(jane["_links"]) == {"self"}  # collections carry only `self`
    assert jane["_links"]["self"]["href"] == f"https://acme.okta.example/api/v1/users/{JANE_ID}"
    assert jane["id"] == JANE_ID
    assert jane["status"] == "ACTIVE"
    assert {k: jane["profile"][k] for k in ("firstName", "lastName", "login", "email")} == {
        "firstName": "Jane",
        "lastName": "Doe",
        "login": JANE_EMAIL,
        "email": JANE_EMAIL,
    }
    assert jane["profile"]["employeeNumber"] == "12345"
    assert jane["credentials"]["provider"] == {"type": "OKTA", "name": "OKTA"}
    _assert_okta_times(jane, USER_TIMES)


@pytest.mark.parametrize("spec", demo_users(), ids=lambda spec: spec.status)
async def test_every_seeded_user_matches_the_user_schema(
    client: httpx.AsyncClient, okta: OktaSchemas, spec: UserSpec
) -> None:
    response = await client.get(f"/api/v1/users/{spec.id}")

    assert response.status_code == 200
    user = response.json()
    okta.response("/api/v1/users/{id}", user)
    assert user["status"] == spec.status
    assert set(user) <= okta.properties("User")
    assert {"self", "schema", "type"} <= set(user["_links"]) <= okta.link_relations("User")
    assert response.headers["ETag"].startswith('W/"')
    _assert_okta_times(user, USER_TIMES)
    if spec.status in {"STAGED", "PROVISIONED"}:
        assert user["activated"] is None
        assert "password" not in user["credentials"]
    else:
        assert user["activated"] is not None
        assert user["credentials"]["password"] == {}


async def test_groups_match_the_group_schema(client: httpx.AsyncClient, okta: OktaSchemas) -> None:
    response = await client.get(f"/api/v1/users/{JANE_ID}/groups", params={"limit": 200})

    assert response.status_code == 200
    groups = response.json()
    okta.response("/api/v1/users/{id}/groups", groups)
    for group in groups:
        assert set(group) <= okta.properties("Group")
        assert set(group["_links"]) <= okta.link_relations("Group")
        assert group["objectClass"] == ["okta:user_group"]
        assert set(group["profile"]) == {"name", "description"}
        _assert_okta_times(group, ("created", "lastUpdated", "lastMembershipUpdated"))
    assert [g["type"] for g in groups] == ["BUILT_IN", "OKTA_GROUP", "OKTA_GROUP"]


async def test_app_links_match_the_app_link_schema(
    client: httpx.AsyncClient, okta: OktaSchemas
) -> None:
    response = await client.get(f"/api/v1/users/{JANE_ID}/appLinks")

    assert response.status_code == 200
    links = response.json()
    okta.response("/api/v1/users/{id}/appLinks", links)
    for link in links:
        assert set(link) == okta.properties("AssignedAppLink")
        assert set(link) == set(okta.example("ListAppLinks")[0])
    assert [link["label"] for link in links] == ["Google Workspace", "Slack", "Jira"]
    assert [link["sortOrder"] for link in links] == [0, 1, 2]
    assert links[0]["linkUrl"].startswith("https://acme.okta.example/home/google/0oa")


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/v1/users/00unknown", {}, 404, "E0000007"),
        ("/api/v1/users/00unknown/groups", {}, 404, "E0000007"),
        ("/api/v1/users/00unknown/appLinks", {}, 404, "E0000007"),
        ("/api/v1/users", {"search": 'profile.email eq "unterminated'}, 400, "E0000031"),
        (f"/api/v1/users/{JANE_ID}/groups", {"limit": "zero"}, 400, "E0000001"),
        ("/api/v1/groups", {}, 404, "E0000007"),
    ],
)
async def test_errors_match_the_error_schema(
    client: httpx.AsyncClient,
    okta: OktaSchemas,
    path: str,
    params: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = await client.get(path, params=params)

    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    okta.error(body)
    assert body["errorCode"] == body["errorLink"] == code
    assert re.fullmatch(r"oae[0-9A-Za-z]{22}", body["errorId"])


async def test_unknown_user_error_names_the_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users/00unknown")

    body = response.json()
    assert body["errorSummary"] == "Not found: Resource not found: 00unknown (User)"
    assert body["errorCauses"] == []


async def test_user_lookup_accepts_id_login_and_short_name(client: httpx.AsyncClient) -> None:
    for key in (JANE_ID, JANE_EMAIL, "JANE.DOE@example.com", "jane.doe"):
        response = await client.get(f"/api/v1/users/{key}")
        assert response.status_code == 200, key
        assert response.json()["id"] == JANE_ID


async def test_every_okta_response_carries_okta_headers(client: httpx.AsyncClient) -> None:
    for path in (
        "/api/v1/users",
        f"/api/v1/users/{JANE_ID}",
        f"/api/v1/users/{JANE_ID}/groups",
        f"/api/v1/users/{JANE_ID}/appLinks",
        "/api/v1/users/00unknown",
    ):
        response = await client.get(path)
        headers = response.headers
        assert headers["Content-Type"] == "application/json", path
        assert headers["Date"] == "Thu, 01 Jan 2026 00:00:10 GMT", path
        assert headers["X-Rate-Limit-Reset"] == "1767225660", path  # end of the minute window
        assert int(headers["X-Rate-Limit-Remaining"]) < int(headers["X-Rate-Limit-Limit"]), path
        assert headers["X-Okta-Request-Id"], path


async def test_the_schema_check_is_not_vacuous(
    client: httpx.AsyncClient, okta: OktaSchemas
) -> None:
    [jane] = await _search(client, JANE_EMAIL)

    for broken in (
        {**jane, "status": "ENABLED"},
        {**jane, "activated": 5},
        {**jane, "profile": {**jane["profile"], "email": "no-at-sign"}},
        {**jane, "_links": {"self": {"rel": "missing href"}}},
    ):
        with pytest.raises(ValidationError):
            okta.response("/api/v1/users", [broken])
