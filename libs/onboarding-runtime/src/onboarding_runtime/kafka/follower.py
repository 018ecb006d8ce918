"""Follow a whole topic without a consumer group: from a start point to its end, then on.

For state a service rebuilds from a log each time it starts (who was erased; which webhook
deliveries were accepted). Every partition is assigned to this process; nothing is
committed. `caught_up` is set once everything that was in the topic when the follower
started has been applied, so a service can hold back until its copy is complete.

On librdkafka, like the producer: fetching and decoding run on its threads, and the event
loop takes what has arrived (`consume` with no wait) every `_IDLE_S`. The ingest service
follows its own busy topic, where aiokafka's decoding was about 10 µs of the event loop's
CPU per accepted webhook. librdkafka reconnects by itself after a lost broker and goes on
from where it was, so `apply` sees each record once per process.

A follower has no dead-letter topic: a record `apply` raises on (not JSON, nested thousands
deep, a field of the wrong type) is skipped, counted in `onboarding_records_skipped_total`
(consumer `follower`) and logged once by its place, never its content, and the follower
goes on. One bad record must not end the copy a service relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from onboarding_runtime.kafka.connection import UNREACHABLE, KafkaConnection
from onboarding_runtime.metrics import RECORDS_SKIPPED

log = logging.getLogger(__name__)

Apply = Callable[[Message], None]

# How long the loop leaves arrived records waiting when it has taken all there were.
_IDLE_S = 0.05
_BATCH = 1000
_METADATA_TIMEOUT_S = 5.0


class TopicFollower:
    def __init__(
        self,
        kafka: KafkaConnection,
        topic: str,
        apply: Apply,
        *,
        since_s: float | None = None,
    ) -> None:
        """`since_s`: start this many seconds back (by record time); None: from the beginning."""
        self._topic = topic
        self._apply = apply
        self._since_s = since_s
        self._kafka = kafka
        self._config = kafka.librdkafka(
            {
                # Required by the client, never used: partitions are assigned, nothing committed.
                "group.id": f"follower-{uuid.uuid4()}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                # A busy topic would be fetched a record or two at a time: let the broker gather
                # up to 100 ms of records per fetch instead.
                "fetch.min.bytes": 256 * 1024,
                "fetch.wait.max.ms": 100,
                "reconnect.backoff.ms": 100,
                "reconnect.backoff.max.ms": 1000,
                # Told when a partition is read to its end: the end may lie past the last record
                # handed to us (transaction markers, compaction), and `caught_up` and `sync`
                # must not wait for records that will never come.
                "enable.partition.eof": True,
            }
        )
        self._positions: dict[int, int] = {}  # partition -> next offset to apply
        self._task: asyncio.Task[None] | None = None
        # `sync`'s end offsets come through a handle of their own: on the fetching one, each
        # request waits behind a long-polling fetch (`fetch.wait.max.ms`), a tenth of a
        # second per `sync`. And callers at the same time share one request (`_ends_now`).
        self._watermarks: Consumer | None = None
        self._round = asyncio.Lock()  # one watermark request in flight
        self._next_round: asyncio.Task[dict[int, int]] | None = None
        # `sync` callers: the end offsets they wait for, and what to wake when reached.
        self._waiters: list[tuple[dict[int, int], asyncio.Future[None]]] = []
        self.caught_up = asyncio.Event()

    async def start(self, *, timeout_s: float = 30.0) -> None:
        """Follow the topic; wait (bounded) until what was there at start is applied."""
        self._task = asyncio.create_task(self._follow(), name=f"follow-{self._topic}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.caught_up.wait(), timeout_s)

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The following task once started (for a `Supervisor` to watch)."""
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sync(self, *, timeout_s: float = 10.0) -> bool:
        """Wait until every record written to the topic before this call has been applied.

        One watermark request to the broker; at once when nothing new was written (the
        usual case). False when the follower is not following yet, the broker does not
        answer, or the records are not read within `timeout_s`.
        """
        if self._watermarks is None or not self.caught_up.is_set():
            return False
        try:
            ends = await asyncio.wait_for(self._ends_now(self._watermarks), timeout_s)
        except (KafkaException, TimeoutError, RuntimeError):  # RuntimeError: closed meanwhile
            return False
        if self._reached(ends):
            return True
        reached: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = (ends, reached)
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(reached, timeout_s)
        except TimeoutError:
            return False
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
        return True

    async def _ends_now(self, watermarks: Consumer) -> dict[int, int]:
        """The end offsets, as a request sent after this call reads them. Callers meanwhile
        join the same next request: a thousand `sync`s at once make one or two requests."""
        if self._next_round is None or self._next_round.done():
            self._next_round = asyncio.create_task(self._read_ends(watermarks))
        return await asyncio.shield(self._next_round)

    async def _read_ends(self, watermarks: Consumer) -> dict[int, int]:
        async with self._round:  # the request in flight (asked for before us) ends first
            self._next_round = None  # whoever calls from now on waits for the one after
            if self._watermarks is not watermarks:
                raise RuntimeError("the follower stopped")
            return await asyncio.to_thread(self._ends, watermarks)

    def _ends(self, consumer: Consumer) -> dict[int, int]:
        """Blocking: the end offset of every partition being followed."""
        try:
            return self._watermarks_of(consumer)
        except KafkaException:
            # A handle that follows no partition refreshes no metadata by itself: after the
            # broker was away it may hold the partitions as unknown for good. Ask once more
            # with fresh metadata (a real outage fails this too, and the caller is told).
            consumer.list_topics(self._topic, timeout=_METADATA_TIMEOUT_S)
            return self._watermarks_of(consumer)

    def _watermarks_of(self, consumer: Consumer) -> dict[int, int]:
        return {
            partition: consumer.get_watermark_offsets(
                TopicPartition(self._topic, partition), timeout=_METADATA_TIMEOUT_S
            )[1]
            for partition in list(self._positions)
        }

    def _reached(self, ends: dict[int, int]) -> bool:
        return all(self._positions.get(p, 0) >= end for p, end in ends.items())

    def _wake_waiters(self) -> None:
        for ends, reached in self._waiters:
            if not reached.done() and self._reached(ends):
                reached.set_result(None)

    async def _follow(self) -> None:
        consumer = Consumer(self._config)
        watermarks = Consumer(self._config)
        try:
            ends = await self._assign(consumer)
            self._watermarks = watermarks
            await self._read(consumer, ends)
        finally:
            self._watermarks = None
            await asyncio.to_thread(consumer.close)
            async with self._round:  # not while a request is on it
                await asyncio.to_thread(watermarks.close)

    async def _assign(self, consumer: Consumer) -> dict[int, int]:
        """Assign every partition at its start point; the end offset of each, as of now."""
        while True:
            try:
                return await asyncio.to_thread(self._start_points, consumer)
            except KafkaException:
                # The broker is away or refuses us: the access says which, once a minute.
                consumer.poll(0)  # serves the error callbacks, where librdkafka says why
                self._kafka.access.refused(UNREACHABLE)
                await asyncio.sleep(1.0)
            except LookupError:
                # The topic is not made yet (`onboarding-ops topics`).
                log.warning("cannot follow %s yet: no such topic", self._topic)
                await asyncio.sleep(1.0)

    def _start_points(self, consumer: Consumer) -> dict[int, int]:
        """Blocking: metadata, watermarks and (with `since_s`) offsets by time."""
        topic = consumer.list_topics(self._topic, timeout=_METADATA_TIMEOUT_S).topics.get(
            self._topic
        )
        if topic is None or topic.error is not None or not topic.partitions:
            raise LookupError(f"topic {self._topic} has no partitions")
        partitions = sorted(topic.partitions)
        ends: dict[int, int] = {}
        starts: dict[int, int] = {}
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(self._topic, partition), timeout=_METADATA_TIMEOUT_S
            )
            ends[partition], starts[partition] = high, low
        if self._since_s is not None:
            since_ms = int((time.time() - self._since_s) * 1000)
            found = consumer.offsets_for_times(
                [TopicPartition(self._topic, p, since_ms) for p in partitions],
                timeout=_METADATA_TIMEOUT_S,
            )
            for tp in found:
                # nothing that recent (OFFSET_END): only what comes next
                starts[tp.partition] = ends[tp.partition] if tp.offset < 0 else tp.offset
        consumer.assign([TopicPartition(self._topic, p, starts[p]) for p in partitions])
        self._positions.update(starts)
        return ends

    async def _read(self, consumer: Consumer, ends: dict[int, int]) -> None:
        positions = self._positions
        while True:
            messages = consumer.consume(_BATCH, 0)
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        partition = message.partition() or 0
                        end = message.offset() or 0
                        positions[partition] = max(positions.get(partition, 0), end)
                    else:
                        log.warning("following %s: %s", self._topic, error)
                    continue
                self._apply_or_skip(message)
                positions[message.partition() or 0] = (message.offset() or 0) + 1
            if not self.caught_up.is_set() and all(positions[p] >= end for p, end in ends.items()):
                self.caught_up.set()
            if messages and self._waiters:
                self._wake_waiters()
            if len(messages) < _BATCH:
                await asyncio.sleep(_IDLE_S)

    def _apply_or_skip(self, message: Message) -> None:
        try:
            self._apply(message)
        except Exception as exc:  # RecursionError too: whatever it is, the next record waits
            reason = "too_deep" if isinstance(exc, RecursionError) else "apply_failed"
            RECORDS_SKIPPED.labels("follower", self._topic, reason).inc()
            log.error(
                "record skipped: %s (%s)",
                reason,
                type(exc).__name__,
                extra={
                    "topic": self._topic,
                    "partition": message.partition(),
                    "offset": message.offset(),
                },
            )
