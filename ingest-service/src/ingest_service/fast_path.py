"""The webhook served straight from the ASGI entry point, past FastAPI's middleware stack.

FastAPI wraps every request in half a dozen layers (error pages, exception handlers, an
exit stack, routing, our trace middleware) that cost about a fifth of the CPU of an
accepted webhook (tests/bench/ingest_throughput.py). The webhook needs none of them: it
parses its own body and writes its own answer, so `IngestApp` hands it the request first
and gives every other request (docs, health, metrics, 405s) to FastAPI as usual. It keeps
their promises: the trace id as correlation id, `X-Correlation-ID` on the answer, a logged
500 (never a traceback) when something unexpected fails, and (tracing on) a server span.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from onboarding_runtime import tracing
from onboarding_runtime.logging import correlation_id
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from ingest_service.intake import MAX_BODY_BYTES, BodyTooLarge, read_body
from ingest_service.services import Services
from ingest_service.tracing import answered, continue_trace, webhook_span
from ingest_service.webhook import WEBHOOK_PATH, Answer, answer_webhook

log = logging.getLogger(__name__)

_SERVER_ERROR = Answer(500, {"detail": "Internal Server Error"})


class IngestApp(FastAPI):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == WEBHOOK_PATH and scope["method"] == "POST":
            await serve_webhook(self.state.services, scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


async def serve_webhook(services: Services, scope: Scope, receive: Receive, send: Send) -> None:
    # A plain dict (names arrive lower-cased): `Headers.get` scans the list on every call.
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    incoming = headers.get("traceparent")
    # Tracing off: a shared no-op context, and the ids made here (nothing allocated for it).
    with webhook_span(incoming) as current:
        if current is None:
            trace_id, traceparent = continue_trace(incoming)
        else:
            traceparent = tracing.span_traceparent(current)
            trace_id = traceparent[3:35]
        client = scope.get("client")
        token = correlation_id.set(trace_id)
        try:
            answer = await answer_webhook(
                services,
                headers,
                lambda: _read(receive, headers.get("content-length")),
                client=client[0] if client else "unknown",
                traceparent=traceparent,
            )
        except ClientDisconnect:
            return  # nobody to answer; nothing was accepted unless Kafka has it (a duplicate)
        except Exception:
            log.exception("webhook failed")
            answer = _SERVER_ERROR
        finally:
            correlation_id.reset(token)
        if current is not None:
            answered(current, answer.status)
    body = answer.encoded()
    response_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-correlation-id", trace_id.encode()),
    ]
    if answer.retry_after is not None:
        response_headers.append((b"retry-after", str(answer.retry_after).encode()))
    await send(
        {"type": "http.response.start", "status": answer.status, "headers": response_headers}
    )
    await send({"type": "http.response.body", "body": body})


async def _read(receive: Receive, declared_length: str | None) -> bytes:
    """The body; the common case, all of it in the first message, without a generator."""
    message = await receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body: bytes = message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge
        return body
    return await read_body(_chunks(receive, first=message), declared_length)


async def _chunks(receive: Receive, *, first: Message) -> AsyncIterator[bytes]:
    message = first
    while True:
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
        message = await receive()
