"""The Okta client: user by email, their groups (every page) and app links.

One `httpx.AsyncClient` for the life of the service. Errors come out as the consumer
runner's `RetryableError` / `PermanentError`, told apart by status and Okta's errorCode.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import Any, Protocol

import httpx
from onboarding_runtime.kafka import PermanentError, RetryableError
from pydantic import TypeAdapter, ValidationError

from enrich_service.okta_models import OktaAppLink, OktaError, OktaGroup, OktaUser

_USERS = TypeAdapter(list[OktaUser])
_GROUPS = TypeAdapter(list[OktaGroup])
_APP_LINKS = TypeAdapter(list[OktaAppLink])


class UserNotFound(RetryableError):
    """Okta's search is eventually consistent and accounts may be created later."""

    def __init__(self) -> None:
        super().__init__("no Okta user with this email yet", code="okta_user_not_found")


class Okta(Protocol):
    async def find_user_by_email(self, email: str) -> OktaUser: ...
    async def groups(self, user_id: str) -> list[OktaGroup]: ...
    async def app_links(self, user_id: str) -> list[OktaAppLink]: ...


def search_expression(email_address: str) -> str:
    escaped = email_address.replace("\\", "\\\\").replace('"', '\\"')
    return f'profile.email eq "{escaped}"'


def _retry_after(response: httpx.Response) -> float:
    """Seconds until Okta's window resets, measured on Okta's clock (its `Date` header)."""
    reset = response.headers.get("X-Rate-Limit-Reset")
    date = response.headers.get("Date")
    if reset and reset.isdigit():
        now = time.time()
        if date:
            parsed = email.utils.parsedate_to_datetime(date)
            now = parsed.timestamp()
        return max(0.0, int(reset) - now)
    return 1.0


class OktaClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @classmethod
    def build(cls, org_url: str, token: str, *, timeout_s: float) -> OktaClient:
        scheme = "Bearer" if token.count(".") == 2 else "SSWS"  # a JWT is an OAuth token
        http = httpx.AsyncClient(
            base_url=org_url.rstrip("/"),
            headers={"Authorization": f"{scheme} {token}", "Accept": "application/json"},
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=50),
        )
        return cls(http)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        try:
            response = await self._http.get(url, params=params)
        except httpx.TransportError as exc:
            raise RetryableError(
                f"Okta unreachable: {type(exc).__name__}", code="okta_unavailable"
            ) from exc
        if response.status_code < 400:
            return response
        try:
            error = OktaError.model_validate(response.json())
        except (ValueError, ValidationError):
            error = OktaError()
        code = error.errorCode or f"http_{response.status_code}"
        message = f"Okta {response.status_code} {code}: {error.errorSummary or ''}".strip()
        if response.status_code == 429:
            raise RetryableError(message, code=code, retry_after=_retry_after(response))
        if response.status_code >= 500 or response.status_code in (401, 403):
            # 401/403 is our configuration, not the event's fault: don't dead-letter everyone.
            raise RetryableError(message, code=code)
        raise PermanentError(message, code=code)

    async def find_user_by_email(self, email: str) -> OktaUser:
        response = await self._get("/api/v1/users", {"search": search_expression(email)})
        users = _USERS.validate_python(response.json())
        wanted = email.casefold()
        matches = [u for u in users if (u.profile.email or "").casefold() == wanted]
        if not matches:
            raise UserNotFound()
        return matches[0]

    async def groups(self, user_id: str) -> list[OktaGroup]:
        groups: list[OktaGroup] = []
        url: str | None = f"/api/v1/users/{user_id}/groups"
        while url is not None:
            response = await self._get(url)
            groups.extend(_GROUPS.validate_python(response.json()))
            next_link = response.links.get("next")
            url = next_link["url"] if next_link else None
        return groups

    async def app_links(self, user_id: str) -> list[OktaAppLink]:
        response = await self._get(f"/api/v1/users/{user_id}/appLinks")
        return _APP_LINKS.validate_python(response.json())

    async def ping(self) -> bool:
        try:
            response = await asyncio.wait_for(
                self._http.get("/api/v1/users", params={"limit": 1}), 3
            )
        except (httpx.HTTPError, TimeoutError):
            return False
        return response.status_code < 500
