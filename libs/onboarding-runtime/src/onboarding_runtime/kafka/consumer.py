"""The consumer runner: at-least-once, manual commit, per-key order, bounded concurrency.

Records of one batch are grouped by key; keys run concurrently (at most `concurrency` at a
time) and each key's records run in offset order. Offsets are committed only when every
record of the batch is handled or dead-lettered, so a crash replays at most the batch in
flight. Failures follow `errors.py`: retry with backoff, or dead-letter, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from onboarding_runtime.kafka.errors import HandlerError, PermanentError, RetryableError
from onboarding_runtime.metrics import (
    HANDLER_SECONDS,
    RECORDS_DEAD_LETTERED,
    RECORDS_PROCESSED,
    RECORDS_RETRIED,
)

log = logging.getLogger(__name__)


class Record(Protocol):
    """What a handler reads of a Kafka record (aiokafka's ConsumerRecord has these)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


Handler = Callable[[Record], Awaitable[None]]
# Handles one partition's slice of a poll at once (e.g. one bulk write); retried as a whole.
BatchHandler = Callable[[Sequence[Record]], Awaitable[None]]


@dataclass(frozen=True)
class Failure:
    """Why a record is dead-lettered; becomes the dead-letter record's headers."""

    code: str
    message: str
    attempts: int
    first_failure: datetime
    last_failure: datetime


DeadLetter = Callable[[Record, Failure], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """`max_attempts=None` retries forever: right when there is no dead-letter topic."""

    max_attempts: int | None = 5
    base_delay_s: float = 0.2
    max_delay_s: float = 30.0

    def delay(self, attempt: int, hint: float | None = None) -> float:
        if hint is not None:
            return hint + random.uniform(0, 0.5)
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # jitter so retries don't align


class ConsumerRunner:
    def __init__(
        self,
        *,
        name: str,
        bootstrap_servers: str,
        group_id: str,
        topics: Sequence[str],
        handler: Handler | None = None,
        batch_handler: BatchHandler | None = None,
        dead_letter: DeadLetter | None = None,
        retry: RetryPolicy | None = None,
        concurrency: int = 16,
        max_batch: int = 500,
    ) -> None:
        self.name = name
        self._bootstrap = bootstrap_servers
        self._group_id = group_id
        self._topics = list(topics)
        if (handler is None) == (batch_handler is None):
            raise ValueError("give exactly one of handler and batch_handler")
        if batch_handler is not None and dead_letter is not None:
            raise ValueError("a batch handler retries until it succeeds; it has no dead letters")
        self._handler = handler
        self._batch_handler = batch_handler
        self._dead_letter = dead_letter
        self._retry = retry or RetryPolicy(max_attempts=5 if dead_letter else None)
        self._slots = asyncio.Semaphore(concurrency)
        self._max_batch = max_batch
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = asyncio.Event()
        self.last_poll: float | None = None

    def _make_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )

    async def run(self) -> None:
        """Consume until `stop()`; reconnects while the broker is unavailable."""
        while not self._stopping.is_set():
            consumer = self._make_consumer()
            try:
                await consumer.start()
                self._consumer = consumer
                await self._loop(consumer)
            except KafkaError as exc:
                log.warning("consumer %s lost the broker: %s", self.name, type(exc).__name__)
                await self._sleep(1.0)
            finally:
                self._consumer = None
                await consumer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=self._max_batch)
            self.last_poll = time.monotonic()
            if not batches:
                continue
            await self._process(batches)
            await consumer.commit({tp: records[-1].offset + 1 for tp, records in batches.items()})

    async def _process(self, batches: dict[TopicPartition, list[Record]]) -> None:
        if self._batch_handler is not None:
            batch_handler = self._batch_handler
            await asyncio.gather(
                *(
                    self._with_retries(records[-1], functools.partial(batch_handler, records))
                    for records in batches.values()
                )
            )
            return
        by_key: dict[tuple[TopicPartition, bytes | None], list[Record]] = defaultdict(list)
        for tp, records in batches.items():
            for record in records:
                by_key[(tp, record.key)].append(record)
        await asyncio.gather(*(self._run_key(records) for records in by_key.values()))

    async def _run_key(self, records: list[Record]) -> None:
        async with self._slots:
            for record in records:
                await self._handle(record)

    async def _handle(self, record: Record) -> None:
        assert self._handler is not None
        handler = self._handler
        await self._with_retries(record, lambda: handler(record))

    async def _with_retries(
        self, record: Record, attempt_once: Callable[[], Awaitable[None]]
    ) -> None:
        """Run until success or a dead letter; `record` names what failed and goes to the DLQ."""
        attempt = 0
        first_failure: datetime | None = None
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                await attempt_once()
            except Exception as exc:  # every failure ends in a retry or a dead letter
                now = datetime.now(UTC)
                first_failure = first_failure or now
                code = exc.code if isinstance(exc, HandlerError) else type(exc).__name__
                exhausted = (
                    self._retry.max_attempts is not None and attempt >= self._retry.max_attempts
                )
                if self._dead_letter and (isinstance(exc, PermanentError) or exhausted):
                    failure = Failure(code, str(exc)[:500], attempt, first_failure, now)
                    await self._send_dead_letter(record, failure)
                    return
                RECORDS_RETRIED.labels(self.name, record.topic, code).inc()
                hint = exc.retry_after if isinstance(exc, RetryableError) else None
                log.warning(
                    "record failed, retrying",
                    extra={"consumer": self.name, "code": code, "attempt": attempt},
                    exc_info=not isinstance(exc, HandlerError),
                )
                await self._sleep(self._retry.delay(attempt, hint))
                if self._stopping.is_set():
                    raise asyncio.CancelledError from exc  # leave it uncommitted
                continue
            HANDLER_SECONDS.labels(self.name, record.topic).observe(time.perf_counter() - started)
            RECORDS_PROCESSED.labels(self.name, record.topic).inc()
            return

    async def _send_dead_letter(self, record: Record, failure: Failure) -> None:
        assert self._dead_letter is not None
        attempt = 0
        while True:  # a dead letter that can't be written is retried, never dropped
            attempt += 1
            try:
                await self._dead_letter(record, failure)
            except Exception:
                log.exception("dead-letter write failed", extra={"consumer": self.name})
                await asyncio.sleep(self._retry.delay(min(attempt, 8)))
                continue
            RECORDS_DEAD_LETTERED.labels(self.name, record.topic, failure.code).inc()
            return

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def stop(self) -> None:
        self._stopping.set()

    def healthy(self) -> bool:
        """Polled within the last 30 s: the loop is alive and the broker reachable."""
        return self.last_poll is not None and time.monotonic() - self.last_poll < 30


def record_summary(record: Record) -> dict[str, Any]:
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}
