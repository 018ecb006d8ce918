"""HTTP requests counted and timed by route template and status: an ASGI middleware.

    app.add_middleware(RequestMetrics, routes=app.routes)

`onboarding_http_request_seconds{route,status}` is a histogram: its `_count` is the number
of requests, its buckets the latency (from the request's arrival at the middleware until
its answer is sent). `route` is the path template of the route that answered
(`/v1/users/{employee_id}`), never the path itself: ids in paths are personal data, and
each would be a series of its own. A request no route took (a 404 of the router, a
redirect to the path with or without its slash) is `route="unmatched"`.

The template comes from the scope the router filled in: `route` for FastAPI's routes, else
`endpoint`, looked up once among `routes` (a plain Starlette route, such as query-service's
hot read, leaves only its endpoint there).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from prometheus_client import Histogram

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNMATCHED = "unmatched"

REQUEST_SECONDS = Histogram(
    "onboarding_http_request_seconds",
    "HTTP requests by route template and status: time until the answer was sent",
    ["route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class RequestMetrics:
    def __init__(self, app: ASGIApp, *, routes: Sequence[object]) -> None:
        """`routes`: the app's routes (`app.routes`), where a plain route's template is found."""
        self._app = app
        self._routes = routes
        self._templates: dict[object, str] = {}  # endpoint -> its route's path template
        self._observers: dict[tuple[str, int], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_note)
        finally:
            self._observer(self._template(scope), status).observe(time.perf_counter() - started)

    def _template(self, scope: Scope) -> str:
        path = getattr(scope.get("route"), "path", None)
        if isinstance(path, str):
            return path
        endpoint = scope.get("endpoint")
        if endpoint is None:
            return UNMATCHED
        template = self._templates.get(endpoint)
        if template is None:
            template = next(
                (
                    route_path
                    for route in self._routes
                    if getattr(route, "endpoint", None) is endpoint
                    and isinstance(route_path := getattr(route, "path", None), str)
                ),
                UNMATCHED,
            )
            self._templates[endpoint] = template
        return template

    def _observer(self, route: str, status: int) -> Histogram:
        """The child histogram of one label pair, looked up once (`labels` costs per call)."""
        observer = self._observers.get((route, status))
        if observer is None:
            observer = self._observers[(route, status)] = REQUEST_SECONDS.labels(route, status)
        return observer
