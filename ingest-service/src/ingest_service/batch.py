"""`POST /v1/hr/webhooks:batch`: up to 1,000 HR records in one request, each answered on its own.

The single webhook's rules, record by record: the same credentials (the signature covers
the whole body), each record validated as `POST /v1/hr/webhook` validates one, written
once per delivery id (record n of a batch is delivery `{webhook-id}#n`, through the same
`Acceptor` and delivery index), and acknowledged by Kafka before the answer says `202`.
The answer is `207` with one result per record, in order.

An ordinary FastAPI route, not on the fast path (`fast_path.py`): what FastAPI costs per
request is spread over up to a thousand records here, and its middleware (tracing, the
correlation id) sees the batch like any other request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from onboarding_events import HrUser, kafka_headers
from onboarding_runtime import tracing
from starlette.requests import ClientDisconnect

from ingest_service.acceptor import YIELD_EVERY, Unavailable
from ingest_service.auth import AuthError
from ingest_service.intake import (
    MAX_BATCH_BODY_BYTES,
    MAX_BATCH_RECORDS,
    BodyTooLarge,
    Invalid,
    TooManyRecords,
    delivery_id,
    is_json,
    is_ndjson,
    parse_user,
    read_body,
    split_batch,
)
from ingest_service.metrics import DUPLICATES, batch_records_answered, webhooks_answered
from ingest_service.openapi import BATCH_OPENAPI, BATCH_RESPONSES, WEBHOOK_SECURITY, BatchResults
from ingest_service.services import Services
from ingest_service.tracing import kafka_trace_headers
from ingest_service.webhook import Answer, ReadBody, http_response, request_traceparent

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhook"])
BATCH_PATH = "/v1/hr/webhooks:batch"
UNAVAILABLE = "Event store unavailable, retry later"


class _Refused(Exception):
    """The batch as a whole is refused, once the rate limit has had its say."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(status)
        self.status, self.detail = status, detail


def _error(status: int, detail: Any, retry_after: int | None = None) -> Answer:
    webhooks_answered(status).inc()
    return Answer(status, {"detail": detail}, retry_after)


async def answer_batch(
    services: Services,
    headers: Mapping[str, str],
    read_body: ReadBody,
    *,
    client: str,
    traceparent: str,
) -> Answer:
    """Checks in the single webhook's order: size, authentication, rate limit (one token
    per record), content type and the batch's shape, delivery id, then each record."""
    try:
        body = await read_body()
    except BodyTooLarge:
        return _error(413, "Request body is larger than 8 MiB")
    with tracing.span("validate"):
        try:
            caller = services.auth.authenticate(headers, body, client=client, now=time.time())
        except AuthError as exc:
            log.info("refused: %s", exc)
            return _error(401, str(exc))
        try:
            records, refused = _split(headers, body), None
        except _Refused as exc:
            records, refused = [], exc
        # All or nothing; a batch refused whole takes one token, as a refused webhook does.
        wait_s = services.limiter.acquire(caller.identity, len(records) or 1)
        if wait_s > 0:
            return _error(429, "Too many requests", services.limiter.retry_after(wait_s))
        if refused is not None:
            return _error(refused.status, refused.detail)
        try:
            delivery = delivery_id(headers.get("webhook-id"), headers.get("idempotency-key"))
        except Invalid as exc:
            return _error(422, exc.errors)
        parsed: list[HrUser | Invalid] = []
        today = services.today()
        for record in records:
            if parsed and not len(parsed) % YIELD_EVERY:
                await asyncio.sleep(0)
            parsed.append(_parse(record, today))

    valid = [(n, user) for n, user in enumerate(parsed) if isinstance(user, HrUser)]
    with tracing.span("publish", kind=tracing.SpanKind.PRODUCER) as current:
        if current is not None:
            current.set_attribute("messaging.system", "kafka")
            current.set_attribute("messaging.batch.message_count", len(valid))
        try:
            outcomes = await services.acceptor.accept_all(
                [(user, None if delivery is None else f"{delivery}#{n}") for n, user in valid],
                kafka_headers(kafka_trace_headers(traceparent)),
            )
        except Unavailable as exc:
            log.warning("answering 503: %s", exc)
            return _error(503, UNAVAILABLE, services.retry_after_s)

    results: list[dict[str, Any]] = []
    outcome_of = {n: outcome for (n, _), outcome in zip(valid, outcomes, strict=True)}
    duplicates = 0
    for n, item in enumerate(parsed):
        if isinstance(item, Invalid):
            results.append({"status": 422, "errors": item.errors})
        elif (outcome := outcome_of[n]) is None:
            results.append({"status": 503})
        else:
            duplicates += outcome.duplicate
            results.append(
                {"status": 202, "event_id": outcome.event_id, "employee_id": item.employee_id}
            )
    return _answered(services, results, duplicates)


def _split(headers: Mapping[str, str], body: bytes) -> list[bytes]:
    content_type = headers.get("content-type")
    ndjson = is_ndjson(content_type)
    if not (ndjson or is_json(content_type)):
        raise _Refused(415, "Content-Type must be application/json or application/x-ndjson")
    try:
        return split_batch(body, ndjson=ndjson)
    except TooManyRecords:
        raise _Refused(413, f"A batch holds at most {MAX_BATCH_RECORDS:,} records") from None
    except Invalid as exc:
        raise _Refused(422, exc.errors) from None


def _parse(record: bytes, today: date) -> HrUser | Invalid:
    try:
        return parse_user(record, today=today)
    except Invalid as exc:
        return exc


def _answered(services: Services, results: list[dict[str, Any]], duplicates: int) -> Answer:
    """The `207`, counted and logged (counts only: no record's content)."""
    statuses = Counter(result["status"] for result in results)
    for status, count in statuses.items():
        batch_records_answered(status).inc(count)
    DUPLICATES.inc(duplicates)
    webhooks_answered(207).inc()
    counts = {"accepted": statuses[202], "invalid": statuses[422], "unavailable": statuses[503]}
    if statuses[503]:
        log.warning("batch: answering 503 for records Kafka did not acknowledge", extra=counts)
        return Answer(207, {"results": results}, services.retry_after_s)
    log.info("batch answered", extra={**counts, "duplicates": duplicates})
    return Answer(207, {"results": results})


@router.post(
    BATCH_PATH,
    status_code=207,
    response_model=BatchResults,
    summary="Accept up to 1,000 HR employee records",
    description=(
        "A JSON array or NDJSON of HR records, each validated and written as "
        "`POST /v1/hr/webhook` would; answers `207` with one result per record, in order, "
        "once Kafka has durably written every record answered `202`. Sending the same batch "
        "again with the same `webhook-id` (or `Idempotency-Key`) writes nothing twice and "
        "gives the same `event_id`s back."
    ),
    openapi_extra=BATCH_OPENAPI,
    responses=BATCH_RESPONSES,
    dependencies=WEBHOOK_SECURITY,
)
async def receive_hr_batch(request: Request) -> Response:
    try:
        answer = await answer_batch(
            request.app.state.services,
            request.headers,
            lambda: read_body(
                request.stream(), request.headers.get("content-length"), MAX_BATCH_BODY_BYTES
            ),
            client=request.client.host if request.client else "unknown",
            traceparent=request_traceparent(request),
        )
    except ClientDisconnect:
        return Response(status_code=400)  # nobody reads it; what Kafka acknowledged stands
    except Exception:
        log.exception("batch failed")  # the single webhook's promise: JSON, no traceback
        answer = Answer(500, {"detail": "Internal Server Error"})
    return http_response(answer)
