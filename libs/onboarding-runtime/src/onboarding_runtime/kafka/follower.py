"""Follow a whole topic without a consumer group: from a start point to its end, then on.

For state a service rebuilds from a log each time it starts (who was erased; which webhook
deliveries were accepted). Every partition is assigned to this process; nothing is
committed. `caught_up` is set once everything that was in the topic when the follower
started has been applied, so a service can hold back until its copy is complete. After a
lost connection it resumes where it stopped, so `apply` sees each record once per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

Apply = Callable[[ConsumerRecord[bytes, bytes]], None]


class TopicFollower:
    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        apply: Apply,
        *,
        since_s: float | None = None,
    ) -> None:
        """`since_s`: start this many seconds back (by record time); None: from the beginning."""
        self._bootstrap = bootstrap_servers
        self._topic = topic
        self._apply = apply
        self._since_s = since_s
        self._positions: dict[TopicPartition, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.caught_up = asyncio.Event()

    async def start(self, *, timeout_s: float = 30.0) -> None:
        """Follow the topic; wait (bounded) until what was there at start is applied."""
        self._task = asyncio.create_task(self._follow(), name=f"follow-{self._topic}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.caught_up.wait(), timeout_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self) -> None:
        while True:
            consumer = AIOKafkaConsumer(
                self._topic,  # without a group: every partition is assigned here
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                # A busy topic answers a fetch per record or two when any byte will do: let
                # the broker gather up to 100 ms of records per fetch instead.
                fetch_min_bytes=256 * 1024,
                fetch_max_wait_ms=100,
            )
            try:
                await consumer.start()
                await self._read(consumer)
            except KafkaError as exc:
                log.warning("lost the broker following %s: %s", self._topic, type(exc).__name__)
                await asyncio.sleep(1.0)
            finally:
                await consumer.stop()

    async def _assign(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        assigned = sorted(consumer.assignment())
        while not assigned:  # the topic may not exist yet (made by `onboarding-ops topics`)
            await asyncio.sleep(0.05)
            assigned = sorted(consumer.assignment())
        fresh = [tp for tp in assigned if tp not in self._positions]
        for tp in assigned:
            if tp in self._positions:
                consumer.seek(tp, self._positions[tp])
        if fresh and self._since_s is not None:
            since_ms = int((time.time() - self._since_s) * 1000)
            found = await consumer.offsets_for_times(dict.fromkeys(fresh, since_ms))
            for tp, at in found.items():
                if at is None:  # nothing that recent: only what comes next
                    await consumer.seek_to_end(tp)
                else:
                    consumer.seek(tp, at.offset)
        elif fresh:
            await consumer.seek_to_beginning(*fresh)
        return assigned

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        assigned = await self._assign(consumer)
        ends = await consumer.end_offsets(assigned)
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                for record in records:
                    self._apply(record)
                if records:
                    self._positions[tp] = records[-1].offset + 1
            if not self.caught_up.is_set():
                positions = [await consumer.position(tp) for tp in assigned]
                if all(at >= ends[tp] for tp, at in zip(assigned, positions, strict=True)):
                    self.caught_up.set()
