"""Who was erased, and when: the rule every re-publisher and the enricher apply.

The compacted topic `erasures.v1` is keyed by a keyed-HMAC pseudonym of the employee id, so
the log names nobody in clear. An event whose time is at or before the erasure belongs to
the erased person and must not bring them back; a later one (a re-hire) goes through.
`ErasureWatch` keeps a live copy in a service: it reads the topic to its end at start and
then follows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from onboarding_events import ERASURES_TOPIC, EmployeeErased
from pydantic import ValidationError

from onboarding_runtime.pii import Pseudonymizer

log = logging.getLogger(__name__)


class Erasures:
    def __init__(self, pseudonym: Pseudonymizer) -> None:
        self._pseudonym = pseudonym
        self._by_key: dict[str, EmployeeErased] = {}

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        """One record of the erasure topic."""
        name = (key or b"").decode("utf-8", "replace")
        if value is None:
            self._by_key.pop(name, None)  # nobody writes these; honour them as "forget"
            return
        try:
            self._by_key[name] = EmployeeErased.from_json(value)
        except ValidationError:
            log.error("unreadable erasure record ignored")  # erases nobody, visibly

    def __len__(self) -> int:
        return len(self._by_key)

    def erased_at(self, employee_id: str) -> datetime | None:
        entry = self._by_key.get(self._pseudonym(employee_id))
        return None if entry is None else entry.erased_at

    def covers(self, employee_id: str, event_time: datetime) -> bool:
        """The event belongs to an erased person: it must not be brought back."""
        entry = self._by_key.get(self._pseudonym(employee_id))
        return entry is not None and entry.covers(event_time)


class ErasureWatch:
    """A live `Erasures`, fed by a group-less consumer of the whole erasure topic."""

    def __init__(self, bootstrap_servers: str, pseudonym: Pseudonymizer) -> None:
        self.erasures = Erasures(pseudonym)
        self._bootstrap = bootstrap_servers
        self._task: asyncio.Task[None] | None = None
        self.caught_up = asyncio.Event()

    async def start(self, *, timeout_s: float = 30.0) -> None:
        """Follow the topic; wait (bounded) until what was there at start is read."""
        self._task = asyncio.create_task(self._follow(), name="erasure-watch")
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
                ERASURES_TOPIC,
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            try:
                await consumer.start()
                await self._read(consumer)
            except KafkaError as exc:
                log.warning("erasure watch lost the broker: %s", type(exc).__name__)
                await asyncio.sleep(1.0)
            finally:
                await consumer.stop()

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        partitions = consumer.assignment()
        while not partitions:
            await asyncio.sleep(0.05)
            partitions = consumer.assignment()
        ends = await consumer.end_offsets(list(partitions))
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    self.erasures.apply(record.key, record.value)
            if not self.caught_up.is_set() and all(
                await asyncio.gather(
                    *(self._reached(consumer, tp, end) for tp, end in ends.items())
                )
            ):
                self.caught_up.set()

    @staticmethod
    async def _reached(consumer: AIOKafkaConsumer, tp: object, end: int) -> bool:
        return bool(await consumer.position(tp) >= end)
