"""The consumer runner: at-least-once, manual commit, per-key order, bounded concurrency.

Pipelined: the poll loop hands each record to its key's lane and keeps polling. Lanes run
concurrently (at most `concurrency` handler attempts at once); a key's records run in
offset order. A record waiting for a retry holds no slot and blocks only its own key; with
`supersedes`, a newer record of the same key makes a waiting or queued one obsolete.

Offsets are committed (every `commit_interval_s`, on rebalance and on stop) up to the first
unfinished record of each partition, so a crash, even SIGKILL, replays at most what was
unfinished or not yet committed, and a record waiting for an hour is not lost: it is
simply not committed past. Failures follow `errors.py`. While a record is handled, its
trace id, topic, partition and offset are on every log line, and (tracing on) its span
continues the trace of its `traceparent` header (`handling.py`).

A batch handler (one call per partition slice of a poll, e.g. a bulk write) keeps the
simpler poll-handle-commit cycle: retried until it succeeds. Its lines carry the slice, and
a line about one of its records that record's trace (`handling.py` says the rule).

A rebalance never lets two members act on one key. Before a partition goes: its running
attempts get `shutdown_grace_s` to finish and are then cancelled, `settle` waits for what
they handed on (the producer's records in flight, so nothing is published by a member that
no longer owns the key), and a batch being written is waited for (its retries stop). The
group's rebalance timeout (`rebalance_timeout_s`) is longer than all of that together, so
the broker never gives the partition away while this member still works on it. On the
other side, `prepare` runs once after each new assignment, before its first record is
handled, told where this member starts in each partition it was given (its committed
offset): enrich reads the newest published versions up to the end there, and the HR
records just before those offsets (`history.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from opentelemetry.trace import StatusCode

from onboarding_runtime.kafka.attempts import Attempts, Outcome
from onboarding_runtime.kafka.breaker import CircuitBreaker
from onboarding_runtime.kafka.connection import UNREACHABLE, KafkaConnection
from onboarding_runtime.kafka.handling import batch_logged, handling, handling_batches
from onboarding_runtime.kafka.lanes import (
    RECORDS_SUPERSEDED,
    Lane,
    OffsetTracker,
    Record,
    Supersedes,
)
from onboarding_runtime.kafka.retry import Failure, RetryPolicy
from onboarding_runtime.metrics import ConsumerLag

__all__ = [
    "BatchHandler",
    "ConsumerRunner",
    "DeadLetter",
    "Failure",
    "Handler",
    "Prepare",
    "Record",
    "RetryPolicy",
    "Supersedes",
    "TopicPartition",
    "record_summary",
]

log = logging.getLogger(__name__)

Handler = Callable[[Record], Awaitable[None]]
# Handles one partition's slice of a poll at once (e.g. one bulk write); retried as a whole.
BatchHandler = Callable[[Sequence[Record]], Awaitable[None]]
DeadLetter = Callable[[Record, Failure], Awaitable[None]]
# Before the first record of a new assignment: given each assigned partition's committed
# offset (those with one); False means not ready yet (called again, backing off).
Prepare = Callable[[Mapping[TopicPartition, int]], Awaitable[bool]]
# When a record may be handled (Unix seconds), or None: now (`delays.py`).
Due = Callable[[Record], float | None]
LaneKey = tuple[TopicPartition, bytes | None]
# Longer than any wait a delay topic is meant for (`onboarding_events.waiting`: a week).
MAX_HOLD_S = 8 * 24 * 3600.0


class ConsumerRunner:
    def __init__(
        self,
        *,
        name: str,
        kafka: KafkaConnection,
        group_id: str,
        topics: Sequence[str],
        handler: Handler | None = None,
        batch_handler: BatchHandler | None = None,
        dead_letter: DeadLetter | None = None,
        retry: RetryPolicy | None = None,
        concurrency: int = 16,
        max_batch: int = 500,
        supersedes: Supersedes | None = None,
        on_superseded: Callable[[Record, Record], None] | None = None,
        max_pending: int = 5000,
        commit_interval_s: float = 0.5,
        shutdown_grace_s: float = 10.0,
        breaker: CircuitBreaker | None = None,
        settle: Callable[[], Awaitable[None]] | None = None,
        prepare: Prepare | None = None,
        rebalance_timeout_s: float = 90.0,
        due: Due | None = None,
        clock: Callable[[], float] = time.time,
        max_hold_s: float = MAX_HOLD_S,
    ) -> None:
        """`due`: when a record may be handled (Unix seconds; None: now). A record not due
        yet is not fetched into memory: its partition is paused at it until then, so what
        waits stays in Kafka, durable and committed behind (`delays.py`). Meant for topics
        whose records come due in their order (a delay topic: one delay, written in time
        order). `clock`: what time it is, for `due`. A record due more than `max_hold_s` from
        now, or whose `due` raises, is handled now: a wrong due time must not hold every
        record behind it for good (the handler says what it makes of the record)."""
        self.name = name
        self._kafka = kafka
        self._group_id = group_id
        self._topics = list(topics)
        if (handler is None) == (batch_handler is None):
            raise ValueError("give exactly one of handler and batch_handler")
        if batch_handler is not None and dead_letter is not None:
            raise ValueError("a batch handler retries until it succeeds; it has no dead letters")
        self._handler = handler
        self._batch_handler = batch_handler
        self._supersedes = supersedes
        # Told (obsolete, newer) when a record gives way to a newer one of its key.
        self._on_superseded = on_superseded
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._commit_interval_s = commit_interval_s
        self._grace_s = shutdown_grace_s
        self._settle = settle
        self._prepare = prepare
        self._unprepared = True  # a new assignment came: `prepare` before its first record
        self._assigned: set[TopicPartition] = set()  # what the last assignment gave
        self._rebalance_timeout_s = rebalance_timeout_s
        self._due = due
        self._clock = clock
        self._max_hold_s = max_hold_s
        # Partitions paused at a record not due yet, and when it is.
        self.held: dict[TopicPartition, float] = {}
        self._stopping = asyncio.Event()
        # Batch mode: held while a batch is handled and committed; a revocation waits for it.
        self._batch_guard = asyncio.Lock()
        self._revoking = asyncio.Event()
        self.breaker = breaker or CircuitBreaker(name)
        self._attempts = Attempts(
            name,
            retry or RetryPolicy(max_attempts=5 if dead_letter else None),
            dead_letter,
            self.breaker,
            asyncio.Semaphore(concurrency),
        )
        self._lanes: dict[LaneKey, Lane] = {}
        self._trackers: dict[TopicPartition, OffsetTracker] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._last_commit = 0.0
        self._consumer: AIOKafkaConsumer | None = None
        self.last_poll: float | None = None
        self._lag = ConsumerLag(group_id)  # `onboarding_consumer_lag`, updated each poll

    def _make_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            **self._kafka.aiokafka(),
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            rebalance_timeout_ms=int(self._rebalance_timeout_s * 1000),
        )

    async def run(self) -> None:
        """Consume until `stop()`; reconnects while the broker is unavailable."""
        while not self._stopping.is_set():
            consumer = self._make_consumer()
            consumer.subscribe(self._topics, listener=_Rebalance(self))
            try:
                try:
                    await consumer.start()
                except KafkaError:
                    # Refused or unreachable: said once a minute by the process's access,
                    # which knows the cause from the other clients (or "unreachable").
                    self._kafka.access.refused(UNREACHABLE)
                    await self._sleep(1.0)
                    continue
                self._kafka.access.answered()
                self._consumer = consumer
                if self._batch_handler is not None:
                    await self._batch_loop(consumer, self._batch_handler)
                else:
                    await self._loop(consumer)
            except KafkaError as exc:
                log.warning("consumer %s lost the broker: %s", self.name, type(exc).__name__)
                await self._sleep(1.0)
            finally:
                with contextlib.suppress(KafkaError):
                    await self._drain(set(self._trackers), consumer)
                self._consumer = None
                await consumer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping.is_set():
            await self._lag.update(consumer, self._trackers)
            self._release_due(consumer)
            self._backpressure(consumer)
            batches = await consumer.getmany(timeout_ms=200, max_records=self._max_batch)
            self.last_poll = time.monotonic()
            if batches and self._unprepared and not await self._prepared(consumer):
                continue  # stopping; nothing dispatched, nothing committed past
            # Owned now: preparing awaited, and a rebalance may have taken some meanwhile.
            owned = consumer.assignment()
            batches = {tp: records for tp, records in batches.items() if tp in owned}
            for tp, records in batches.items():
                for record in records:
                    if self._hold(consumer, tp, record):
                        break  # the rest of the partition comes due after it
                    self._dispatch(record)
            if time.monotonic() - self._last_commit >= self._commit_interval_s:
                await self._commit(consumer, set(self._trackers))

    async def _prepared(self, consumer: AIOKafkaConsumer) -> bool:
        """Run `prepare` until it succeeds (backing off), unless the runner stops."""
        delay = 0.2
        while self._prepare is not None and not await self._prepare_once(consumer):
            log.warning("not ready for the new partitions yet", extra={"consumer": self.name})
            await self._sleep(delay)
            delay = min(delay * 2, 5.0)
            if self._stopping.is_set():
                return False
        self._unprepared = False
        return True

    async def _prepare_once(self, consumer: AIOKafkaConsumer) -> bool:
        assert self._prepare is not None
        starts: dict[TopicPartition, int] = {}
        try:
            for tp in self._assigned & consumer.assignment():
                committed = await consumer.committed(tp)
                if committed is not None:
                    starts[tp] = committed
        except KafkaError:
            return False  # the coordinator is away: asked again
        return await self._prepare(starts)

    def _hold(self, consumer: AIOKafkaConsumer, tp: TopicPartition, record: Record) -> bool:
        """Pause `tp` at `record` if it is not due yet; it is fetched again when it is."""
        if self._due is None:
            return False
        try:
            when = self._due(record)
        except Exception:  # whatever a record holds, the loop goes on: due now
            when = None
        now = self._clock()
        if when is None or when <= now or when > now + self._max_hold_s:
            return False
        consumer.seek(tp, record.offset)
        consumer.pause(tp)
        self.held[tp] = when
        return True

    def _release_due(self, consumer: AIOKafkaConsumer) -> None:
        """Partitions whose held record is due now fetch again (unless backpressure holds
        them all); partitions this member no longer owns are forgotten."""
        owned = consumer.assignment()
        now = self._clock()
        for tp, when in list(self.held.items()):
            if tp not in owned or when <= now:
                del self.held[tp]
                if tp in owned:
                    consumer.resume(tp)

    def _backpressure(self, consumer: AIOKafkaConsumer) -> None:
        """Stop fetching while the dependency is down or too much is unfinished in memory."""
        assigned = consumer.assignment()
        unfinished = sum(lane.size for lane in self._lanes.values())
        # With the breaker open a record in hand is the probe; with none (a rebalance took
        # them), fetching goes on until one arrives, or the breaker could never close.
        waiting = self.breaker.is_open and unfinished > 0
        if waiting or unfinished >= self._max_pending:
            consumer.pause(*assigned)
        elif paused := set(consumer.paused()) - set(self.held):
            consumer.resume(*paused)

    def _dispatch(self, record: Record) -> None:
        tp = TopicPartition(record.topic, record.partition)
        self._trackers.setdefault(tp, OffsetTracker()).track(record.offset)
        key = (tp, record.key)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = Lane()
            lane.task = asyncio.create_task(self._run_lane(key, lane))
        for obsolete in lane.add(record, self._supersedes):
            RECORDS_SUPERSEDED.labels(self.name, record.topic).inc()
            self._superseded(obsolete, record)
            self._finish(obsolete)

    async def _run_lane(self, key: LaneKey, lane: Lane) -> None:
        assert self._handler is not None
        try:
            while lane.queue and not lane.closing:
                record = lane.take()
                with handling(record, self._group_id) as current:
                    outcome = await self._attempts.run(record, self._handler, lane)
                    if current is not None and outcome is not Outcome.DONE:
                        current.set_attribute("onboarding.outcome", outcome.value)
                        if outcome is Outcome.DEAD_LETTERED:
                            current.set_status(StatusCode.ERROR, "dead-lettered")
                lane.current = None
                if outcome is Outcome.ABANDONED:
                    return
                if outcome is Outcome.SUPERSEDED:
                    RECORDS_SUPERSEDED.labels(self.name, record.topic).inc()
                    if lane.queue:
                        self._superseded(record, lane.queue[-1])
                self._finish(record)
        finally:
            if self._lanes.get(key) is lane:
                del self._lanes[key]

    def _superseded(self, obsolete: Record, newer: Record) -> None:
        if self._on_superseded is not None:
            try:
                self._on_superseded(obsolete, newer)
            except Exception:  # bookkeeping only: the records' fate is decided already
                log.exception("on_superseded failed", extra={"consumer": self.name})

    def _finish(self, record: Record) -> None:
        tracker = self._trackers.get(TopicPartition(record.topic, record.partition))
        if tracker is not None:  # None: the partition was revoked meanwhile
            tracker.finish(record.offset)

    async def _commit(self, consumer: AIOKafkaConsumer, partitions: set[TopicPartition]) -> None:
        self._last_commit = time.monotonic()
        offsets: dict[TopicPartition, int] = {}
        for tp in partitions & consumer.assignment():
            position = self._trackers[tp].position if tp in self._trackers else None
            if position is not None and self._committed.get(tp) != position:
                offsets[tp] = position
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:  # e.g. a rebalance in progress: retried on the next round
            log.warning("commit failed: %s", type(exc).__name__, extra={"consumer": self.name})
            return
        self._committed.update(offsets)

    async def _drain(self, partitions: set[TopicPartition], consumer: AIOKafkaConsumer) -> None:
        """Let running attempts finish (within the grace period), drop the rest, commit."""
        lanes = [lane for (tp, _), lane in self._lanes.items() if tp in partitions]
        for lane in lanes:
            lane.close()
        tasks = [lane.task for lane in lanes if lane.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self._grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._settle is not None and lanes:
            await self._settle()  # what the cancelled attempts handed on lands (or fails) now
        await self._commit(consumer, partitions)
        for tp in partitions:
            self._trackers.pop(tp, None)
            self._committed.pop(tp, None)

    async def _batch_loop(self, consumer: AIOKafkaConsumer, handler: BatchHandler) -> None:
        traced = handling_batches(handler, self._group_id)
        while not self._stopping.is_set():
            await self._lag.update(consumer)  # the previous batch is done (or given up)
            batches = await consumer.getmany(timeout_ms=500, max_records=self._max_batch)
            self.last_poll = time.monotonic()
            if not batches:
                continue
            async with self._batch_guard:
                # Fetched before a revocation: what is no longer ours is the next owner's.
                owned = consumer.assignment()
                batches = {tp: records for tp, records in batches.items() if tp in owned}
                if self._revoking.is_set() or not batches:
                    continue
                done = await asyncio.gather(
                    *(self._batch_attempts(records, traced) for records in batches.values())
                )
                if not all(done):
                    if self._stopping.is_set():
                        return  # a batch cut short by stop() is not committed
                    continue  # cut short by a revocation: not committed, read again
                offsets = {tp: records[-1].offset + 1 for tp, records in batches.items()}
                await self._commit_offsets(consumer, offsets)

    async def _batch_attempts(self, records: Sequence[Record], handler: BatchHandler) -> bool:
        # The slice on every line of its attempts, the runner's own ones too (`handling.py`).
        with batch_logged(records):
            return await self._attempts.forever(records, handler, abandon=self._revoking)

    async def _commit_offsets(
        self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]
    ) -> None:
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:  # a rebalance took them meanwhile: the next owner redoes it
            log.warning("commit failed: %s", type(exc).__name__, extra={"consumer": self.name})

    async def _settle_batch(self) -> None:
        """Revocation in batch mode: stop retrying, wait for the batch being written."""
        self._revoking.set()
        try:
            async with self._batch_guard:
                pass
        finally:
            self._revoking.clear()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def stop(self) -> None:
        self._stopping.set()
        self._attempts.stopping.set()

    def healthy(self) -> bool:
        """Polled within the last 30 s: the loop is alive and the broker reachable."""
        return self.last_poll is not None and time.monotonic() - self.last_poll < 30


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Before partitions go to another member: finish or drop their work, commit, forget."""

    def __init__(self, runner: ConsumerRunner) -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._runner._unprepared = True
        consumer = self._runner._consumer
        if self._runner._batch_handler is not None:
            await self._runner._settle_batch()
        elif consumer is not None and revoked:
            await self._runner._drain(set(revoked), consumer)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._runner._unprepared = True
        self._runner._assigned = set(assigned)


def record_summary(record: Record) -> dict[str, Any]:
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}
