"""`POST /v1/preview`: what enriching an HR record would give now, without enriching it.

The record is refused as ingest's webhook refuses it (`onboarding_runtime.intake`: 413,
415, 422 with every reason), the person is looked up in Okta as the consumer looks them up
(`handlers.enriched_user`), and the answer is the user exactly as `GET /v1/users/{id}`
would serve them, with the status the HR event would get and why. Nothing is published,
stored or remembered: nothing here holds a producer.

Okta's budget is the consumer's first. A preview asks at low priority:
- at most `ENRICH_PREVIEW_CONCURRENCY` previews at once; one more is refused at once (429,
  `Retry-After: 1`) rather than queued;
- through the consumer's client (`OktaClient.low_priority`): the same cap on calls in
  flight and the same rate-limit budget, each call tried once, and none made while less
  than `ENRICH_PREVIEW_RESERVE` of an operation's limit is left in Okta's window (429,
  `Retry-After`: until the window resets);
- not at all while the consumer's circuit breaker is open (503, `Retry-After`: its next
  probe); Okta failing the preview's own call is a 503 too, and tells the breaker nothing.

Who may ask: the webhook's `API_KEY` in `X-API-Key` (several, comma-separated, for
rotation). Without one: open outside production, off (404) in production, where enrich
starts all the same: the preview is optional, enrichment is not.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from onboarding_events import HrUser
from onboarding_runtime.intake import (
    BodyTooLarge,
    Invalid,
    is_json,
    parse_user,
    read_body,
)
from onboarding_runtime.kafka import (
    CircuitBreaker,
    PermanentError,
    RetryableError,
    UnavailableError,
)
from onboarding_runtime.pii import Pseudonymizer
from starlette.requests import ClientDisconnect

from enrich_service.handlers import UserNotFound, enriched_user
from enrich_service.okta import Okta
from enrich_service.okta_errors import OktaBusy
from enrich_service.openapi import (
    PREVIEW_OPENAPI,
    PREVIEW_RESPONSES,
    PREVIEW_SECURITY,
    Preview,
)
from enrich_service.waiting import RetrySchedule

log = logging.getLogger(__name__)

PREVIEW_PATH = "/v1/preview"
DISABLED = "preview disabled: API_KEY is not set"
BUSY = "Too many previews at once, retry later"
OKTA_BUSY = "Okta's rate-limit budget is kept for enrichment, retry later"
OKTA_DOWN = "Okta unavailable, retry later"


def _refusal(status: int, detail: object, retry_after_s: float | None = None) -> JSONResponse:
    headers = None
    if retry_after_s is not None:
        headers = {"Retry-After": str(max(1, math.ceil(retry_after_s)))}
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


class Previewer:
    def __init__(
        self,
        okta: Okta,
        *,
        breaker: CircuitBreaker,
        api_keys: Sequence[str],
        enabled: bool,
        concurrency: int,
        schedule: RetrySchedule,
        retry_after_s: float,
        pseudonymize: Pseudonymizer,
        clock: Callable[[], float],
    ) -> None:
        """`okta`: the consumer's client at low priority; `breaker`: the consumer's;
        `clock`: Unix seconds, the day a record is validated against."""
        self._clock = clock
        self._okta = okta
        self._breaker = breaker
        self._keys = [key.encode() for key in api_keys if key]
        self._enabled = enabled
        self._previews = asyncio.Semaphore(concurrency)
        self._schedule = schedule
        self._retry_after_s = retry_after_s
        self._pseudonymize = pseudonymize

    def _authorized(self, presented: str | None) -> bool:
        if not self._keys:
            return True  # outside production only: `enabled` says so otherwise
        given = (presented or "").encode("utf-8", "surrogateescape")
        # Constant time, every key compared: the time tells neither the key nor which one.
        return presented is not None and any(
            [hmac.compare_digest(given, key) for key in self._keys]
        )

    async def answer(self, request: Request) -> Response:
        """Refusals in the order they are checked, then the preview."""
        if not self._enabled:
            return _refusal(404, DISABLED)
        if not self._authorized(request.headers.get("x-api-key")):
            log.info("preview refused: missing or wrong X-API-Key")
            return _refusal(401, "missing or wrong X-API-Key")
        try:
            body = await read_body(request.stream(), request.headers.get("content-length"))
        except BodyTooLarge:
            return _refusal(413, "Request body is larger than 64 KiB")
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is there to read it
        if not is_json(request.headers.get("content-type")):
            return _refusal(415, "Content-Type must be application/json")
        try:
            hr = parse_user(body, today=datetime.fromtimestamp(self._clock(), UTC).date())
        except Invalid as exc:
            return _refusal(422, exc.errors)
        if self._previews.locked():  # refused, not queued: the caller is waiting
            return _refusal(429, BUSY, 1)
        async with self._previews:  # taken at once: nothing awaited since `locked()`
            return await self._preview(hr)

    async def _preview(self, hr: HrUser) -> Response:
        if self._breaker.is_open:  # enrichment waits for Okta: so does the preview
            return _refusal(503, OKTA_DOWN, self._breaker.next_probe_in())
        try:
            user = await enriched_user(
                hr, okta=self._okta, not_found_retry_s=self._schedule.not_found_retry_s
            )
        except OktaBusy as exc:
            log.info("preview refused: Okta's budget is short")
            return _refusal(429, OKTA_BUSY, exc.retry_after)
        except UnavailableError as exc:
            log.warning("preview refused: Okta unavailable (%s)", exc.code)
            return _refusal(503, OKTA_DOWN, self._retry_after_s)
        except UserNotFound as exc:
            outcome = self._waiting(hr, exc)
        except RetryableError as exc:
            outcome = _pending(exc, f"{exc}: enrichment would try again")
        except PermanentError as exc:
            message = f"{exc}: enrichment would dead-letter the event at once"
            outcome = Preview(user=None, status="failed", reason=exc.code, message=message)
        else:
            outcome = Preview(user=user, status="completed", reason=None, message=None)
        log.info(
            "previewed",
            extra={
                "employee": self._pseudonymize(hr.employee_id),
                "status": outcome.status,
                "reason": outcome.reason,
            },
        )
        return JSONResponse(outcome.model_dump(mode="json"))

    def _waiting(self, hr: HrUser, exc: UserNotFound) -> Preview:
        """Not in Okta yet: what the retry tiers would do with the person (`waiting.py`)."""
        start = hr.start_date
        today = datetime.fromtimestamp(self._clock(), UTC).date()
        schedule = self._schedule
        if start is not None and start > today:
            status: Literal["pending", "scheduled"] = "scheduled"
            grace = f"{schedule.prehire_grace_s:g} s"
            until = f"until {start.isoformat()} (the start date) plus {grace}"
        else:
            status, until = "pending", f"for {schedule.not_found_retry_s:g} s"
        message = (
            f"{exc}: enrichment would look again after {schedule.describe()} {until}, "
            "then dead-letter the event"
        )
        return Preview(user=None, status=status, reason=exc.code, message=message)


def _pending(exc: RetryableError, message: str) -> Preview:
    if exc.retry_for is not None:
        message += ", then dead-letter the event"
    return Preview(user=None, status="pending", reason=exc.code, message=message)


def preview_router(previewer: Previewer) -> APIRouter:
    router = APIRouter(tags=["preview"])

    @router.post(
        PREVIEW_PATH,
        response_model=Preview,
        summary="Preview the enrichment of one HR record (dry run)",
        description=(
            "Validates the record as `POST /v1/hr/webhook` does, looks the person up in Okta, "
            "and answers the user exactly as `GET /v1/users/{id}` would serve them, with "
            "the status the HR event would get and why. Nothing is published or stored. "
            "Okta's rate-limit budget goes to enrichment first: previews are refused (429) "
            "when it runs short."
        ),
        openapi_extra=PREVIEW_OPENAPI,
        responses=PREVIEW_RESPONSES,
        dependencies=PREVIEW_SECURITY,
    )
    async def preview(request: Request) -> Response:
        return await previewer.answer(request)

    return router
