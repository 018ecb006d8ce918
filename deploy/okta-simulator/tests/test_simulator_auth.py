"""`Authorization: SSWS <token>`, `SSWS<token>` or `Bearer <token>`; Okta's 401 otherwise.

The no-space form is what the generated calls of Okta's SDK for Python (`okta` 3.4.6) send,
and Okta accepts it.
"""

from __future__ import annotations

import httpx
import pytest
from okta_simulator.seed import JANE_ID
from oktasim_spec import OktaSchemas


@pytest.mark.parametrize("scheme", ["SSWS", "Bearer", "ssws"])
async def test_the_token_opens_the_api(client: httpx.AsyncClient, token: str, scheme: str) -> None:
    response = await client.get(
        f"/api/v1/users/{JANE_ID}", headers={"Authorization": f"{scheme} {token}"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize("template", ["SSWS {token}", "SSWS{token}", "ssws{token}"])
async def test_the_token_with_or_without_a_space_after_ssws(
    client: httpx.AsyncClient, token: str, template: str
) -> None:
    """`SSWS<token>` is how the `okta` SDK for Python writes the header."""
    response = await client.get(
        f"/api/v1/users/{JANE_ID}", headers={"Authorization": template.format(token=token)}
    )

    assert response.status_code == 200
    assert response.json()["id"] == JANE_ID


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "SSWS wrong-token",
        "Basic dGVzdC10b2tlbg==",
        "test-token",
        "SSWS ",
        "SSWS",
        "SSWS test-token2",
        "SSWStest-token2",
        "SSWSXtest-token",
        "SSWS:test-token",
        "Bearertest-token",
        "SSWStest-token extra",
    ],
)
async def test_anything_else_gets_okta_401(
    client: httpx.AsyncClient, okta: OktaSchemas, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    if authorization is None:
        client.headers.pop("Authorization")

    response = await client.get(
        "/api/v1/users", params={"search": 'status eq "ACTIVE"'}, headers=headers
    )

    assert response.status_code == 401
    body = response.json()
    okta.error(body)
    assert {k: v for k, v in body.items() if k != "errorId"} == {
        "errorCode": "E0000011",
        "errorSummary": "Invalid token provided",
        "errorLink": "E0000011",
        "errorCauses": [],
    }
    assert body["errorId"].startswith("oae")
    assert response.headers["Content-Type"] == "application/json"
    for name in ("Date", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"):
        assert name in response.headers


async def test_every_okta_path_needs_the_token(client: httpx.AsyncClient) -> None:
    client.headers.pop("Authorization")

    for path in ("", f"/{JANE_ID}", f"/{JANE_ID}/groups", f"/{JANE_ID}/appLinks", "/00unknown"):
        response = await client.get(f"/api/v1/users{path}")
        assert response.status_code == 401, path


async def test_health_and_control_need_no_token(client: httpx.AsyncClient) -> None:
    client.headers.pop("Authorization")

    health = await client.get("/v1/healthz")
    log = await client.get("/_sim/requests")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert log.status_code == 200
