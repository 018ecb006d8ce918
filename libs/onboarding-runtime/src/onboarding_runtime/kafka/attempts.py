"""One record's attempts: retry, pause for the breaker, give way to a newer record, or
dead-letter, following `errors.py`."""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from opentelemetry import trace

from onboarding_runtime.kafka.breaker import CircuitBreaker
from onboarding_runtime.kafka.errors import (
    HandlerError,
    PermanentError,
    RetryableError,
    UnavailableError,
    failure_text,
)
from onboarding_runtime.kafka.lanes import Lane, Record
from onboarding_runtime.kafka.retry import Failure, RetryPolicy
from onboarding_runtime.metrics import (
    HANDLER_SECONDS,
    RECORDS_DEAD_LETTERED,
    RECORDS_PROCESSED,
    RECORDS_RETRIED,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class Outcome(enum.Enum):
    DONE = "done"
    DEAD_LETTERED = "dead_lettered"
    SUPERSEDED = "superseded"  # a newer record of the key makes this one pointless
    ABANDONED = "abandoned"  # partition revoked or runner stopping: left uncommitted


class Attempts:
    def __init__(
        self,
        name: str,
        policy: RetryPolicy,
        dead_letter: Callable[[Record, Failure], Awaitable[None]] | None,
        breaker: CircuitBreaker,
        slots: asyncio.Semaphore,
    ) -> None:
        self._name = name
        self._policy = policy
        self._dead_letter = dead_letter
        self._breaker = breaker
        self._slots = slots
        self.stopping = asyncio.Event()

    async def run(
        self, record: Record, handler: Callable[[Record], Awaitable[None]], lane: Lane
    ) -> Outcome:
        attempt = 0
        first_failure: datetime | None = None
        first_failed_at = 0.0  # monotonic, for `retry_for`
        while True:
            probe = False
            if self._breaker.is_open:
                probe = await self._until(lane, self._breaker.admit()) is True
            if lane.closing:
                return Outcome.ABANDONED
            if lane.superseded:
                return Outcome.SUPERSEDED
            try:
                async with self._slots:
                    if self._breaker.is_open and not probe:
                        continue  # it opened while this record waited for a slot: wait above
                    attempt += 1
                    started = time.perf_counter()
                    await handler(record)
            except Exception as exc:  # every failure ends in a retry or a dead letter
                now = datetime.now(UTC)
                if first_failure is None:
                    first_failure, first_failed_at = now, time.monotonic()
                code = exc.code if isinstance(exc, HandlerError) else type(exc).__name__
                RECORDS_RETRIED.labels(self._name, record.topic, code).inc()
                trace.get_current_span().add_event(
                    "attempt failed", {"error.type": code, "attempt": attempt}
                )
                if isinstance(exc, UnavailableError):
                    self._breaker.unavailable(probe=probe)  # the next try waits in `admit`
                    continue
                self._breaker.answered()
                log.warning(
                    "record failed",
                    extra={"consumer": self._name, "code": code, "attempt": attempt},
                    exc_info=not isinstance(exc, HandlerError),
                )
                retry_for = exc.retry_for if isinstance(exc, RetryableError) else None
                deadline = first_failed_at + retry_for if retry_for is not None else None
                if self._dead_letter is not None and (
                    isinstance(exc, PermanentError) or self._exhausted(attempt, deadline)
                ):
                    if lane.superseded and not isinstance(exc, PermanentError):
                        return Outcome.SUPERSEDED
                    failure = Failure(code, failure_text(exc), attempt, first_failure, now)
                    return await self._send_dead_letter(record, failure, lane)
                await self._until(lane, asyncio.sleep(self._delay(exc, attempt, deadline)))
                continue
            self._breaker.answered()
            HANDLER_SECONDS.labels(self._name, record.topic).observe(time.perf_counter() - started)
            RECORDS_PROCESSED.labels(self._name, record.topic).inc()
            return Outcome.DONE

    def _exhausted(self, attempt: int, deadline: float | None) -> bool:
        if deadline is not None:
            return time.monotonic() >= deadline
        return self._policy.max_attempts is not None and attempt >= self._policy.max_attempts

    def _delay(self, exc: Exception, attempt: int, deadline: float | None) -> float:
        hint = exc.retry_after if isinstance(exc, RetryableError) else None
        if deadline is None or not isinstance(exc, RetryableError) or exc.retry_for is None:
            return self._policy.delay(attempt, hint)
        # A long period (an hour) is covered by ~20+ widening attempts, the last at its end.
        delay = self._policy.delay(attempt, hint, ceiling=exc.retry_for / 20)
        return max(0.0, min(delay, deadline - time.monotonic()))

    async def _until(self, lane: Lane, waiting: Awaitable[T]) -> T | None:
        """`waiting`'s result, or None sooner if the lane is woken (superseded or closing)."""
        main = asyncio.ensure_future(waiting)
        if lane.wake.is_set():
            main.cancel()
            await asyncio.gather(main, return_exceptions=True)
            return None
        woken = asyncio.ensure_future(lane.wake.wait())
        try:
            await asyncio.wait({main, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (main, woken):
                task.cancel()
            await asyncio.gather(main, woken, return_exceptions=True)
        return main.result() if main.done() and not main.cancelled() else None

    async def _send_dead_letter(self, record: Record, failure: Failure, lane: Lane) -> Outcome:
        assert self._dead_letter is not None
        attempt = 0
        while not lane.closing:  # a dead letter that can't be written is retried, never dropped
            attempt += 1
            try:
                await self._dead_letter(record, failure)
            except Exception:
                log.exception("dead-letter write failed", extra={"consumer": self._name})
                await self._until(lane, asyncio.sleep(self._policy.delay(min(attempt, 8))))
                continue
            RECORDS_DEAD_LETTERED.labels(self._name, record.topic, failure.code).inc()
            return Outcome.DEAD_LETTERED
        return Outcome.ABANDONED

    async def forever(
        self,
        records: Sequence[Record],
        handler: Callable[[Sequence[Record]], Awaitable[None]],
        *,
        abandon: asyncio.Event | None = None,
    ) -> bool:
        """A batch handler's attempts: until it succeeds (True), or the runner stops or
        `abandon` is set (False; an attempt already running is waited for, never cut)."""
        record, attempt = records[-1], 0
        given_up = abandon or asyncio.Event()
        while not self.stopping.is_set() and not given_up.is_set():
            attempt += 1
            started = time.perf_counter()
            try:
                await handler(records)
            except Exception as exc:
                code = exc.code if isinstance(exc, HandlerError) else type(exc).__name__
                RECORDS_RETRIED.labels(self._name, record.topic, code).inc()
                trace.get_current_span().add_event(
                    "attempt failed", {"error.type": code, "attempt": attempt}
                )
                log.warning(
                    "batch failed, retrying",
                    extra={"consumer": self._name, "code": code, "attempt": attempt},
                    exc_info=not isinstance(exc, HandlerError),
                )
                hint = exc.retry_after if isinstance(exc, RetryableError) else None
                await _first_of(self.stopping, given_up, self._policy.delay(attempt, hint))
                continue
            HANDLER_SECONDS.labels(self._name, record.topic).observe(time.perf_counter() - started)
            RECORDS_PROCESSED.labels(self._name, record.topic).inc(len(records))
            return True
        return False


async def _first_of(first: asyncio.Event, second: asyncio.Event, seconds: float) -> None:
    """Wait until either event is set, at most `seconds`."""
    waits = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
