"""Who was erased, and when: the rule every re-publisher and the enricher apply.

The compacted topic `erasures.v1` is keyed by a keyed-HMAC pseudonym of the employee id, so
the log names nobody in clear. An event whose time is at or before the erasure belongs to
the erased person and must not bring them back; a later one (a re-hire) goes through.
`ErasureWatch` keeps a live copy in a service: it reads the topic to its end at start and
then follows it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from onboarding_events import ERASURES_TOPIC, EmployeeErased
from pydantic import ValidationError

from onboarding_runtime.kafka.connection import KafkaConnection
from onboarding_runtime.kafka.follower import TopicFollower
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
    """A live `Erasures`, fed by a group-less follower of the whole erasure topic."""

    def __init__(self, kafka: KafkaConnection, pseudonym: Pseudonymizer) -> None:
        self.erasures = Erasures(pseudonym)
        self._follower = TopicFollower(
            kafka,
            ERASURES_TOPIC,
            lambda m: self.erasures.apply(m.key(), m.value()),
        )
        self.caught_up = self._follower.caught_up

    async def start(self, *, timeout_s: float = 30.0) -> None:
        """Follow the topic; wait (bounded) until what was there at start is read. Callers
        that must not act before the log is loaded wait for `caught_up` as well."""
        await self._follower.start(timeout_s=timeout_s)

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._follower.task

    async def sync(self) -> bool:
        """Wait until every erasure written before this call is known (False: unsure)."""
        return await self._follower.sync()

    async def stop(self) -> None:
        await self._follower.stop()
