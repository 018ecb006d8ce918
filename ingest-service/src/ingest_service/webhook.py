"""`POST /v1/hr/webhook`: authenticate, limit, validate, publish durably, then answer 202.

The endpoint takes the raw `Request` (it parses the body itself), so FastAPI has nothing to
solve for it; still its `APIRoute` machinery cost ~10% of the CPU of an accepted webhook
(tests/bench/ingest_throughput.py). So `webhook_route`, a plain Starlette route to the very
same function, serves it, registered before `router`, whose `APIRoute` documents it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from onboarding_events import kafka_headers
from onboarding_runtime.pii import mask_email
from starlette.routing import Route

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
from ingest_service.metrics import ACCEPT_SECONDS, DUPLICATES, WEBHOOKS
from ingest_service.openapi import WEBHOOK_OPENAPI, WEBHOOK_RESPONSES, Accepted
from ingest_service.services import Services
from ingest_service.tracing import kafka_trace_headers

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhook"])
WEBHOOK_PATH = "/v1/hr/webhook"


def _error(status: int, detail: Any, retry_after: int | None = None) -> JSONResponse:
    WEBHOOKS.labels(str(status)).inc()
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


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
)
async def receive_hr_webhook(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    try:
        body = await read_body(request)
    except BodyTooLarge:
        return _error(413, "Request body is larger than 64 KiB")
    headers = request.headers
    client = request.client.host if request.client else "unknown"
    try:
        caller = services.auth.authenticate(headers, body, client=client, now=time.time())
    except AuthError as exc:
        log.info("refused: %s", exc)
        return _error(401, str(exc))
    wait_s = services.limiter.acquire(caller.identity)
    if wait_s > 0:
        return _error(429, "Too many requests", retry_after=services.limiter.retry_after(wait_s))
    if not is_json(headers.get("content-type")):
        return _error(415, "Content-Type must be application/json")
    try:
        user = parse_user(body)
        delivery = delivery_id(headers.get("webhook-id"), headers.get("idempotency-key"))
    except Invalid as exc:
        return _error(422, exc.errors)

    traceparent: str = request.scope["state"]["traceparent"]
    started = time.perf_counter()
    try:
        outcome = await services.acceptor.accept(
            user, delivery, kafka_headers(kafka_trace_headers(traceparent))
        )
    except Unavailable as exc:
        log.warning("broker unavailable, answering 503: %s", exc)
        return _error(503, "Event store unavailable, retry later", services.retry_after_s)
    ACCEPT_SECONDS.observe(time.perf_counter() - started)
    if outcome.duplicate:
        DUPLICATES.inc()
    log.info(
        "accepted",
        extra={
            "employee": services.pseudonymize(user.employee_id),
            "email": mask_email(user.email),
            "event_id": outcome.event.id,
            "duplicate": outcome.duplicate,
        },
    )
    WEBHOOKS.labels("202").inc()
    accepted = {
        "status": "accepted",
        "message": "User enrichment queued for background processing",
        "employee_id": user.employee_id,
        "email": user.email,
        "event_id": outcome.event.id,
    }
    return JSONResponse(accepted, status_code=202)


webhook_route = Route(WEBHOOK_PATH, receive_hr_webhook, methods=["POST"], include_in_schema=False)
