"""W3C trace context per request: the trace id is the correlation id of every log line.

An incoming valid `traceparent` is continued (same trace id, our own span id); otherwise a
new trace starts. The id is echoed in `X-Correlation-ID` and travels to Kafka as the
`traceparent` and `correlation-id` headers. With tracing off (`onboarding_runtime.tracing`)
the ids are made here, cheaply; with it on, they are the server span's.
"""

from __future__ import annotations

import contextlib
import random
import re
from contextlib import AbstractContextManager

from onboarding_runtime import tracing
from onboarding_runtime.logging import correlation_id
from opentelemetry import trace
from opentelemetry.trace import Span, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_INVALID_TRACE = "0" * 32
_INVALID_SPAN = "0" * 16
# Trace ids must be unique, not secret (W3C trace context): the PRNG (reseeded in each
# forked process), not a system call per id as `secrets` makes.
_unique_bits = random.getrandbits


def continue_trace(header: str | None) -> tuple[str, str]:
    """(trace id, our traceparent) from an incoming `traceparent`, or a new trace."""
    match = _TRACEPARENT.match(header.strip().lower()) if header else None
    if match and match.group(1) != _INVALID_TRACE and match.group(2) != _INVALID_SPAN:
        trace_id, flags = match.group(1), match.group(3)
    else:
        trace_id, flags = f"{_unique_bits(128):032x}", "01"
    return trace_id, f"00-{trace_id}-{_unique_bits(64):016x}-{flags}"


def kafka_trace_headers(traceparent: str) -> dict[str, str]:
    """The record's trace headers: the current span's (tracing on), else `traceparent`."""
    if tracing.enabled():
        return tracing.trace_headers()
    return {"traceparent": traceparent, "correlation-id": traceparent[3:35]}


_NO_SPAN: AbstractContextManager[None] = contextlib.nullcontext()


def webhook_span(incoming: str | None) -> AbstractContextManager[Span | None]:
    """The webhook's server span, continuing `incoming`; tracing off, a shared no-op."""
    if not tracing.enabled():
        return _NO_SPAN
    return tracing.span(
        "POST /v1/hr/webhook", kind=tracing.SpanKind.SERVER, parent=tracing.continued(incoming)
    )


def answered(current: Span, status: int) -> None:
    current.set_attribute("http.response.status_code", status)
    if status >= 500:
        current.set_status(StatusCode.ERROR)


class TraceMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): it runs on every request of the hot path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == b"traceparent":
                incoming = value.decode("latin-1")
        if tracing.enabled():
            await self._traced(scope, receive, send, incoming)
            return
        trace_id, traceparent = continue_trace(incoming)
        await self._with_ids(scope, receive, send, trace_id, traceparent)

    async def _traced(
        self, scope: Scope, receive: Receive, send: Send, incoming: str | None
    ) -> None:
        current = trace.get_current_span()
        if current.get_span_context().is_valid:  # FastAPI's server span: it wraps this
            traceparent = tracing.span_traceparent(current)
            trace_id = traceparent[3:35]
        else:  # a probe or a scrape, which FastAPI's telemetry leaves out
            trace_id, traceparent = continue_trace(incoming)
        await self._with_ids(scope, receive, send, trace_id, traceparent)

    async def _with_ids(
        self, scope: Scope, receive: Receive, send: Send, trace_id: str, traceparent: str
    ) -> None:
        scope.setdefault("state", {})["traceparent"] = traceparent

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-correlation-id", trace_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        token = correlation_id.set(trace_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
