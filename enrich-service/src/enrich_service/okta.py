"""The Okta client: user by email, their groups (every page) and app links.

One HTTP client for the life of the service (`okta_http`: aiohttp in production, any
`httpx.AsyncClient` in tests; answers are `httpx.Response`s either way). Every call waits
for a slot under the concurrency cap and for room in Okta's rate limit (`okta_ratelimit`);
a `429` is waited out and retried here; `5xx` and timeouts are retried with exponential
backoff and jitter (tenacity) and then surface as `OktaDown`, which pauses consumption
(`okta_errors`).

`low_priority()` is the same client for calls that must not starve the consumer's (the
preview): they share its connection, cap and budget, but are tried once and are not made
while the budget is short (`OktaBusy`).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode, urlsplit

import httpx
from onboarding_runtime import tracing
from prometheus_client import Counter
from pydantic import TypeAdapter, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from enrich_service.okta_errors import (
    OktaBadAnswer,
    OktaBusy,
    OktaDown,
    OktaThrottled,
    TransientStatus,
    code_of,
    failure_for,
)
from enrich_service.okta_http import AiohttpOkta, OktaHttp
from enrich_service.okta_models import OktaAppLink, OktaGroup, OktaUser
from enrich_service.okta_ratelimit import RateLimiter

OKTA_CALLS = Counter(
    "enrich_okta_calls_total", "Calls to Okta by operation and status", ["operation", "status"]
)

T = TypeVar("T")

_USERS = TypeAdapter(list[OktaUser])
_GROUPS = TypeAdapter(list[OktaGroup])
_APP_LINKS = TypeAdapter(list[OktaAppLink])


class Okta(Protocol):
    async def find_user_by_email(self, email: str) -> OktaUser | None: ...
    async def groups(self, user_id: str) -> list[OktaGroup]: ...
    async def app_links(self, user_id: str) -> list[OktaAppLink]: ...


def search_expression(email_address: str) -> str:
    """Okta's search filter for one email; `"` and `\\` escaped as Okta's grammar wants."""
    escaped = email_address.replace("\\", "\\\\").replace('"', '\\"')
    return f'profile.email eq "{escaped}"'


class OktaClient:
    def __init__(
        self,
        http: OktaHttp,
        *,
        max_concurrency: int = 20,
        max_attempts: int = 4,
        backoff_max_s: float = 8.0,
        max_throttled: int = 10,
        limiter: RateLimiter | None = None,
        slots: asyncio.Semaphore | None = None,
        reserve: float | None = None,
    ) -> None:
        self._http = http
        self._slots = slots or asyncio.Semaphore(max_concurrency)
        self._limiter = limiter or RateLimiter()
        self._reserve = reserve  # low priority: the share of Okta's budget left to others
        self._max_throttled = max_throttled
        self._origin = urlsplit(str(http.base_url))[:2]
        # Calls go to absolute URLs (`OktaHttp.get` takes one; a `Link` is one anyway).
        self._base = str(http.base_url).rstrip("/")
        self._max_attempts = max_attempts
        # Built once: a call makes only its own AsyncRetrying (which holds per-call state).
        self._retry = retry_if_exception_type((TransientStatus, httpx.TransportError))
        self._retries = stop_after_attempt(max_attempts - 1)
        self._wait = wait_random_exponential(multiplier=0.25, max=backoff_max_s)

    @classmethod
    def build(cls, org_url: str, token: str, *, timeout_s: float, **options: Any) -> OktaClient:
        scheme = "Bearer" if token.count(".") == 2 else "SSWS"  # a JWT is an OAuth token
        http = AiohttpOkta(
            org_url.rstrip("/"),
            headers={"Authorization": f"{scheme} {token}", "Accept": "application/json"},
            timeout_s=timeout_s,
            connect_timeout_s=min(timeout_s, 5.0),
            # The semaphore keeps calls within the cap, so one connection each is enough.
            max_connections=int(options.get("max_concurrency", 20)),
        )
        return cls(http, **options)

    def low_priority(self, *, reserve: float) -> OktaClient:
        """This client for calls that must not starve its own: the same connection, cap on
        calls in flight and rate-limit budget, but each call tried once (no backoff: its
        caller can ask again) and not made at all (`OktaBusy`) while less than `reserve` of
        the operation's limit is left in Okta's window, or a `429` is being waited out.
        Closing it is closing this client: only this one is closed."""
        return OktaClient(
            self._http,
            max_attempts=1,
            max_throttled=self._max_throttled,
            limiter=self._limiter,
            slots=self._slots,
            reserve=reserve,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, operation: str, url: str) -> httpx.Response:
        """One logical call: 5xx/timeouts backed off (tenacity), 429s waited out."""
        try:
            # The first attempt outside tenacity, whose bookkeeping costs ~0.1 ms of CPU a
            # call: nearly every call succeeds at once. It takes over for the retries only.
            try:
                return await self._until_not_throttled(operation, url)
            except (TransientStatus, httpx.TransportError):
                if self._max_attempts == 1:
                    raise
            retrying = AsyncRetrying(
                retry=self._retry, stop=self._retries, before=self._back_off, reraise=True
            )
            async for attempt in retrying:
                with attempt:
                    return await self._until_not_throttled(operation, url)
        except TransientStatus as exc:
            raise OktaDown(str(exc), code=exc.code) from exc
        except httpx.TransportError as exc:
            raise OktaDown(
                f"Okta unreachable: {type(exc).__name__}", code="okta_unavailable"
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _back_off(self, retry: RetryCallState) -> None:
        """Before retry n, the wait tenacity would make after attempt n: the n-th attempt of
        the call (the first try, then n - 1 retries) has just failed."""
        await asyncio.sleep(self._wait(retry))

    async def _until_not_throttled(self, operation: str, url: str) -> httpx.Response:
        for _ in range(self._max_throttled):
            response = await self._send(operation, url)
            if response.status_code != 429:
                if response.status_code >= 500:
                    raise TransientStatus(response.status_code, code_of(response))
                if response.status_code >= 400:
                    raise failure_for(response)
                return response
        raise OktaThrottled("Okta keeps answering 429", code="E0000047")

    async def _send(self, operation: str, url: str) -> httpx.Response:
        if self._reserve is not None:
            wait_s = self._limiter.short_of(operation, self._reserve)
            if wait_s > 0:
                raise OktaBusy(wait_s)
        await self._limiter.acquire(operation)
        response: httpx.Response | None = None
        try:
            async with self._slots:
                with tracing.span(f"GET {operation}", kind=tracing.SpanKind.CLIENT) as current:
                    if current is not None:  # no query (an email) nor Okta user id (a person)
                        current.set_attribute("http.request.method", "GET")
                        current.set_attribute("url.full", tracing.url_for_span(url))
                        current.set_attribute("url.template", tracing.url_template(url))
                        current.set_attribute("okta.operation", operation)
                    response = await self._http.get(url)
                    if current is not None:
                        current.set_attribute("http.response.status_code", response.status_code)
        finally:
            status = str(response.status_code) if response is not None else "error"
            OKTA_CALLS.labels(operation, status).inc()
            self._limiter.release(
                operation,
                response.headers if response is not None else None,
                throttled=response is not None and response.status_code == 429,
            )
        return response

    async def find_user_by_email(self, email: str) -> OktaUser | None:
        # The query written out here, as httpx would encode it: `params=` costs httpx a
        # second URL parse and merge on every call.
        query = urlencode({"search": search_expression(email)})
        response = await self._get("listUsers", f"{self._base}/api/v1/users?{query}")
        users = _parse(_USERS, response)
        wanted = email.casefold()
        return next((u for u in users if (u.profile.email or "").casefold() == wanted), None)

    async def groups(self, user_id: str) -> list[OktaGroup]:
        groups: list[OktaGroup] = []
        url: str | None = f"{self._base}/api/v1/users/{user_id}/groups"
        while url is not None:
            response = await self._get("listUserGroups", url)
            groups.extend(_parse(_GROUPS, response))
            url = self._next_page(response)
        return groups

    async def app_links(self, user_id: str) -> list[OktaAppLink]:
        return _parse(
            _APP_LINKS,
            await self._get("listAppLinks", f"{self._base}/api/v1/users/{user_id}/appLinks"),
        )

    def _next_page(self, response: httpx.Response) -> str | None:
        link = response.links.get("next")
        if not link or not link.get("url"):
            return None
        url = link["url"]
        if urlsplit(url)[:2] != self._origin:  # never send our token to another host
            raise OktaBadAnswer("Okta's next link points elsewhere", code="okta_bad_link")
        return url


def _parse(adapter: TypeAdapter[list[T]], response: httpx.Response) -> list[T]:
    try:
        return adapter.validate_json(response.content)
    except ValidationError as exc:
        raise OktaBadAnswer(
            f"Okta answer does not match its schema: {exc.error_count()} errors",
            code="okta_bad_answer",
        ) from exc
