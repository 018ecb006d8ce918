"""Read authentication, unknown ids and the OpenAPI document of the read API."""

from __future__ import annotations

import httpx
import pytest
from onboarding_devstack.polling import eventually_async as eventually
from query_support import READ_KEY

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": READ_KEY},  # no scheme
        {"X-API-Key": "wrong"},
        {"Authorization": f"Basic {READ_KEY}"},
    ],
)
async def test_reads_without_the_read_key_are_refused(
    anonymous: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for path in ("/v1/users/12345", "/v1/users/12345/status"):
        response = await anonymous.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "headers", [{"Authorization": f"Bearer {READ_KEY}"}, {"X-API-Key": READ_KEY}]
)
async def test_the_read_key_opens_reads_either_way(
    anonymous: httpx.AsyncClient, headers: dict[str, str], unique_name: str
) -> None:
    response = await anonymous.get(f"/v1/users/{unique_name}", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}
    status = await anonymous.get(f"/v1/users/{unique_name}/status", headers=headers)
    assert status.status_code == 404


async def test_health_and_readiness_stay_open(
    anonymous: httpx.AsyncClient,
) -> None:
    assert (await anonymous.get("/v1/healthz")).json() == {"status": "ok"}

    async def ready() -> bool | None:
        return True if (await anonymous.get("/v1/readyz")).status_code == 200 else None

    await eventually(ready)


async def test_openapi_documents_both_reads_with_examples(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    user = spec["paths"]["/v1/users/{employee_id}"]["get"]["responses"]
    assert {"200", "304", "401", "404", "503"} <= set(user)
    status = spec["paths"]["/v1/users/{employee_id}/status"]["get"]["responses"]
    assert {"200", "401", "404", "503"} <= set(status)
    schemas = spec["components"]["schemas"]
    assert schemas["EnrichedUser"]["examples"]
    assert schemas["UserStatus"]["examples"]
    # The read key, as `/docs` can send it: a bearer token or `X-API-Key`, either one.
    schemes = spec["components"]["securitySchemes"]
    assert schemes["readBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <READ_API_KEY>`",
    }
    assert (schemes["readApiKey"]["in"], schemes["readApiKey"]["name"]) == ("header", "X-API-Key")
    for path in ("/v1/users/{employee_id}", "/v1/users/{employee_id}/status"):
        assert spec["paths"][path]["get"]["security"] == [{"readBearer": []}, {"readApiKey": []}]
