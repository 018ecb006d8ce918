"""Okta's edge, as an ASGI middleware: what happens to a call before the org sees it.

For each of the four operations, in order: log the request, add the configured latency,
let an armed fault answer (or hang), count it against the endpoint's rate limit (429), check
`Authorization` (401; `SSWS <token>`, `SSWS<token>` or `Bearer <token>`). Every response
gets `Date`, `X-Okta-Request-Id` and, for the four operations, `X-Rate-Limit-*`. `/_sim/*`
and `/v1/healthz` are not logged.
"""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from datetime import UTC, datetime
from email.utils import formatdate
from urllib.parse import parse_qsl

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from okta_simulator.errors import error_response, invalid_token, rate_limited
from okta_simulator.faults import fault_error, throttled_state
from okta_simulator.ids import request_id
from okta_simulator.models import Endpoint
from okta_simulator.ratelimit import RateLimitState
from okta_simulator.simulator import RequestRecord, Simulator
from okta_simulator.views import okta_time

_ROUTES: list[tuple[re.Pattern[str], Endpoint]] = [
    (re.compile(r"^/api/v1/users/?$"), "listUsers"),
    (re.compile(r"^/api/v1/users/[^/]+/?$"), "getUser"),
    (re.compile(r"^/api/v1/users/[^/]+/groups/?$"), "listUserGroups"),
    (re.compile(r"^/api/v1/users/[^/]+/appLinks/?$"), "listAppLinks"),
]
_UNLOGGED = ("/_sim", "/v1/healthz")
_SSWS = "ssws"
_SCHEMES = (_SSWS, "bearer")


@functools.lru_cache(maxsize=4)  # `Date` has whole seconds: rendered once per second
def http_date(epoch_second: int) -> str:
    return formatdate(epoch_second, usegmt=True)


def endpoint_for(method: str, path: str) -> Endpoint | None:
    if method not in ("GET", "HEAD"):
        return None
    return next((endpoint for pattern, endpoint in _ROUTES if pattern.match(path)), None)


def presented_token(authorization: str) -> str | None:
    """The token in an `Authorization` value, or None when the scheme is not Okta's.

    `SSWS <token>` and `Bearer <token>` (any case), and `SSWS<token>` with no space: the
    `okta` SDK for Python sends that form and Okta accepts it. `SSWSX<token>` yields
    `X<token>`, which then fails the comparison like any other wrong token.
    """
    value = authorization.strip()
    scheme, space, credential = value.partition(" ")
    if space and scheme.lower() in _SCHEMES:
        return credential.strip()
    if value[: len(_SSWS)].lower() == _SSWS:
        return value[len(_SSWS) :]
    return None


def authorized(headers: Headers, token: str) -> bool:
    presented = presented_token(headers.get("authorization", ""))
    if not presented:  # an empty credential never passes, even against an empty token
        return False
    return secrets.compare_digest(presented.encode(), token.encode())


class OktaEdge:
    def __init__(self, app: ASGIApp, simulator: Simulator) -> None:
        self.app = app
        self.sim = simulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sim = self.sim
        path: str = scope["path"]
        endpoint = endpoint_for(scope["method"], path)
        record = None if path.startswith(_UNLOGGED) else self._log(scope, endpoint)
        rate: RateLimitState | None = None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Date"] = http_date(int(sim.clock()))
                headers["X-Okta-Request-Id"] = request_id()
                for name, value in (rate.headers() if rate else {}).items():
                    headers[name] = value
                if record is not None:
                    record.status = message["status"]
            await send(message)

        if endpoint is not None:
            await asyncio.sleep(sim.faults.latency_seconds(endpoint))
            fault = sim.faults.take(endpoint)
            if fault is not None and fault.kind == "timeout":
                await asyncio.sleep(fault.hang_seconds)
            elif fault is not None:
                limit = sim.limiter.peek(endpoint, sim.clock())
                if fault.kind == "429":
                    limit = throttled_state(fault, limit.limit, sim.clock())
                rate = limit
                await error_response(fault_error(fault))(scope, receive, send_with_headers)
                return
            rate = sim.limiter.hit(endpoint, sim.clock())
            if not rate.allowed:
                await error_response(rate_limited())(scope, receive, send_with_headers)
                return
        if path.startswith("/api/") and not authorized(
            Headers(scope=scope), sim.settings.api_token.get_secret_value()
        ):
            await error_response(invalid_token())(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _log(self, scope: Scope, endpoint: Endpoint | None) -> RequestRecord:
        query_string = scope.get("query_string", b"").decode("latin-1")
        record = RequestRecord(
            method=scope["method"],
            path=scope["path"],
            query=dict(parse_qsl(query_string, keep_blank_values=True)),
            query_string=query_string,
            time=okta_time(datetime.fromtimestamp(self.sim.clock(), UTC)),
            endpoint=endpoint,
        )
        self.sim.requests.append(record)
        return record
