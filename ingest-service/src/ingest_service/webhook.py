"""`POST /v1/hr/webhook`: authenticate, limit, validate, publish durably, then answer 202.

`answer_webhook` is the whole behaviour, apart from HTTP framing. `fast_path.IngestApp`
serves it straight from the ASGI entry point; the `APIRoute` below documents it in the
OpenAPI schema and serves it too wherever the router is mounted without that entry point.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import Response
from onboarding_events import kafka_headers
from onboarding_runtime import tracing
from onboarding_runtime.pii import mask_email

from ingest_service.acceptor import Unavailable
from ingest_service.auth import AuthError
from ingest_service.intake import (
    BodyTooLarge,
    Invalid,
    delivery_id,
    is_json,
    parse_user,
    read_body,
)
from ingest_service.metrics import ACCEPT_SECONDS, DUPLICATES, webhooks_answered
from ingest_service.openapi import (
    WEBHOOK_OPENAPI,
    WEBHOOK_RESPONSES,
    WEBHOOK_SECURITY,
    Accepted,
)
from ingest_service.services import Services
from ingest_service.tracing import continue_trace, kafka_trace_headers

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhook"])
WEBHOOK_PATH = "/v1/hr/webhook"
ACCEPTED_MESSAGE = "User enrichment queued for background processing"

ReadBody = Callable[[], Awaitable[bytes]]  # raises BodyTooLarge
# One encoder: `json.dumps` with any option builds a new one per call (~8 µs a response).
_JSON = json.JSONEncoder(separators=(",", ":"))


class Answer(NamedTuple):
    status: int
    body: dict[str, Any]
    retry_after: int | None = None

    def encoded(self) -> bytes:
        return _JSON.encode(self.body).encode()


def _error(status: int, detail: Any, retry_after: int | None = None) -> Answer:
    webhooks_answered(status).inc()
    return Answer(status, {"detail": detail}, retry_after)


async def answer_webhook(
    services: Services,
    headers: Mapping[str, str],
    read_body: ReadBody,
    *,
    client: str,
    traceparent: str,
) -> Answer:
    try:
        body = await read_body()
    except BodyTooLarge:
        return _error(413, "Request body is larger than 64 KiB")
    with tracing.span("validate"):
        try:
            caller = services.auth.authenticate(headers, body, client=client, now=time.time())
        except AuthError as exc:
            log.info("refused: %s", exc)
            return _error(401, str(exc))
        wait_s = services.limiter.acquire(caller.identity)
        if wait_s > 0:
            return _error(429, "Too many requests", services.limiter.retry_after(wait_s))
        if not is_json(headers.get("content-type")):
            return _error(415, "Content-Type must be application/json")
        try:
            user = parse_user(body, today=services.today())
            delivery = delivery_id(headers.get("webhook-id"), headers.get("idempotency-key"))
        except Invalid as exc:
            return _error(422, exc.errors)

    started = time.perf_counter()
    with tracing.span("publish", kind=tracing.SpanKind.PRODUCER) as current:
        if current is not None:
            current.set_attribute("messaging.system", "kafka")
        try:
            outcome = await services.acceptor.accept(
                user, delivery, kafka_headers(kafka_trace_headers(traceparent))
            )
        except Unavailable as exc:
            log.warning("answering 503: %s", exc)
            return _error(503, "Event store unavailable, retry later", services.retry_after_s)
        if current is not None:
            current.set_attribute("onboarding.duplicate", outcome.duplicate)
    ACCEPT_SECONDS.observe(time.perf_counter() - started)
    if outcome.duplicate:
        DUPLICATES.inc()
    # One line per accepted webhook only at DEBUG: at INFO it cost about a quarter of the
    # service's CPU per request, and the Kafka record (with its traceparent) is the record.
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "accepted",
            extra={
                "employee": services.pseudonymize(user.employee_id),
                "email": mask_email(user.email),
                "event_id": outcome.event_id,
                "duplicate": outcome.duplicate,
            },
        )
    webhooks_answered(202).inc()
    accepted = {
        "status": "accepted",
        "message": ACCEPTED_MESSAGE,
        "employee_id": user.employee_id,
        "email": user.email,
        "event_id": outcome.event_id,
    }
    return Answer(202, accepted)


@router.post(
    WEBHOOK_PATH,
    status_code=202,
    response_model=Accepted,
    summary="Accept one HR employee record",
    description=(
        "Validates the record and answers `202` once Kafka has durably written the "
        "`hr.user.upserted` event. A repeated delivery with the same `webhook-id` (or "
        "`Idempotency-Key`) gets the same `event_id` back and is not written again."
    ),
    openapi_extra=WEBHOOK_OPENAPI,
    responses=WEBHOOK_RESPONSES,
    dependencies=WEBHOOK_SECURITY,
)
async def receive_hr_webhook(request: Request) -> Response:
    answer = await answer_webhook(
        request.app.state.services,
        request.headers,
        lambda: read_body(request.stream(), request.headers.get("content-length")),
        client=request.client.host if request.client else "unknown",
        traceparent=request_traceparent(request),
    )
    return http_response(answer)


def request_traceparent(request: Request) -> str:
    """Ours, as `TraceMiddleware` set it; a new one where the router is mounted without it."""
    traceparent: str | None = request.scope.get("state", {}).get("traceparent")
    return traceparent or continue_trace(request.headers.get("traceparent"))[1]


def http_response(answer: Answer) -> Response:
    headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after is not None else None
    return Response(
        answer.encoded(), status_code=answer.status, headers=headers, media_type="application/json"
    )
