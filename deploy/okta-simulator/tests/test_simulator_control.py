"""The `/_sim/` control API: seed, users, reset, request log; and the settings."""

from __future__ import annotations

import httpx
import pytest
from okta_simulator.seed import JANE_EMAIL, JANE_ID
from okta_simulator.settings import DEFAULT_RATE_LIMITS, Settings
from oktasim_spec import OktaSchemas

ONBOARDED = {"ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"}
NOT_ONBOARDED = {"STAGED", "PROVISIONED", "SUSPENDED", "DEPROVISIONED"}


async def test_seed_has_one_user_per_status(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/users", params={"search": "id pr"})

    by_status = {user["status"]: user["profile"]["email"] for user in response.json()}
    assert set(by_status) == ONBOARDED | NOT_ONBOARDED
    assert by_status["ACTIVE"] == JANE_EMAIL


async def test_put_user_adds_then_replaces(client: httpx.AsyncClient, okta: OktaSchemas) -> None:
    body = {
        "email": "new.hire@example.com",
        "first_name": "New",
        "last_name": "Hire",
        "status": "STAGED",
        "profile": {"employeeNumber": "777"},
        "groups": ["Everyone", {"name": "Contractors", "description": "Temporary staff"}],
        "app_links": ["Slack", {"label": "Zoom", "hidden": True}],
    }
    added = await client.put("/_sim/users", json=body)
    replaced = await client.put("/_sim/users", json=body | {"status": "ACTIVE"})

    assert (added.status_code, replaced.status_code) == (201, 200)
    okta.response("/api/v1/users/{id}", added.json())
    user_id = added.json()["id"]
    assert replaced.json()["id"] == user_id
    assert user_id.startswith("00u")
    assert len(user_id) == 20
    user = (await client.get(f"/api/v1/users/{user_id}")).json()
    assert (user["status"], user["profile"]["employeeNumber"]) == ("ACTIVE", "777")
    groups = (await client.get(f"/api/v1/users/{user_id}/groups?limit=10")).json()
    assert [(g["profile"]["name"], g["type"]) for g in groups] == [
        ("Everyone", "BUILT_IN"),  # the org's existing group, shared with Jane
        ("Contractors", "OKTA_GROUP"),
    ]
    links = (await client.get(f"/api/v1/users/{user_id}/appLinks")).json()
    assert [(link["label"], link["hidden"]) for link in links] == [("Slack", False), ("Zoom", True)]


async def test_put_user_rejects_bad_bodies(client: httpx.AsyncClient) -> None:
    response = await client.put("/_sim/users", json={"email": "x", "first_name": "X"})

    assert response.status_code == 422


async def test_delete_user(client: httpx.AsyncClient) -> None:
    assert (await client.delete(f"/_sim/users/{JANE_ID}")).status_code == 204
    assert (await client.delete(f"/_sim/users/{JANE_ID}")).status_code == 404

    assert (await client.get(f"/api/v1/users/{JANE_ID}")).status_code == 404


async def test_reset_restores_the_seed(client: httpx.AsyncClient) -> None:
    await client.delete(f"/_sim/users/{JANE_ID}")
    await client.put("/_sim/groups-page-size", json={"size": 50})

    await client.post("/_sim/reset")

    groups = await client.get(f"/api/v1/users/{JANE_ID}/groups")
    assert [g["profile"]["name"] for g in groups.json()] == ["Everyone", "Engineering"]


async def test_request_log_records_calls(client: httpx.AsyncClient) -> None:
    search = 'profile.email eq "jane.doe@example.com"'
    await client.get("/api/v1/users", params={"search": search})
    await client.get("/api/v1/users/00unknown", headers={"Authorization": "SSWS nope"})
    await client.get("/v1/healthz")

    log = (await client.get("/_sim/requests")).json()

    assert [(r["method"], r["path"], r["endpoint"], r["status"]) for r in log] == [
        ("GET", "/api/v1/users", "listUsers", 200),
        ("GET", "/api/v1/users/00unknown", "getUser", 401),
    ]
    assert log[0]["query"] == {"search": search}
    assert log[0]["time"] == "2026-01-01T00:00:10.000Z"
    only_users = await client.get("/_sim/requests", params={"endpoint": "getUser"})
    assert [r["path"] for r in only_users.json()] == ["/api/v1/users/00unknown"]

    assert (await client.delete("/_sim/requests")).status_code == 204
    assert (await client.get("/_sim/requests")).json() == []


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKTA_SIM_PORT", "9010")
    monkeypatch.setenv("OKTA_API_TOKEN", "from-env")
    monkeypatch.setenv("OKTA_SIM_RATE_LIMITS", '{"listUsers": 5}')

    settings = Settings()

    assert settings.port == 9010
    assert settings.host == "127.0.0.1"
    assert settings.api_token.get_secret_value() == "from-env"
    assert settings.rate_limits == {**DEFAULT_RATE_LIMITS, "listUsers": 5}


def test_host_follows_the_services_convention(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OKTA_SIM_HOST", raising=False)
    monkeypatch.setenv("HOST", "0.0.0.0")
    assert Settings().host == "0.0.0.0"

    monkeypatch.setenv("OKTA_SIM_HOST", "127.0.0.2")
    assert Settings().host == "127.0.0.2"


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OKTA_SIM_PORT",
        "OKTA_API_TOKEN",
        "OKTA_SIM_HOST",
        "HOST",
        "OKTA_SIM_RATE_LIMITS",
    ):
        monkeypatch.delenv(name, raising=False)

    settings = Settings()

    assert (settings.host, settings.port) == ("127.0.0.1", 8010)
    assert settings.api_token.get_secret_value() == "okta-simulator-token"
    assert settings.rate_limits["listUsers"] == 600
