"""What enrich-service's two consumers do with a record.

`hr.users.v1`: enrich it now, or, its person not in Okta yet, write it to retry tier 1 and
go on (it waits there, not here). The retry tiers, when a record comes due: enrich it now,
or write it to the next tier, or, past its time, dead-letter it (`waiting.py`); a wait for
an account's activation goes to `activation.py`. Either way, a user published while not
onboarded yet may start such a wait.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from onboarding_events import EnrichedUser, HrUserUpserted
from onboarding_runtime.kafka import Record

from enrich_service.activation import Activation
from enrich_service.handlers import UserNotFound
from enrich_service.records import decode
from enrich_service.waiting import (
    HrPlace,
    NotFoundInTime,
    RetrySchedule,
    WaitingWriter,
    waiting_of,
)

# Enrich and publish the event of a record, versioned by its HR offset (`handlers.py`);
# the user published, or None.
Enrich = Callable[[Record, HrUserUpserted, int], Awaitable[EnrichedUser | None]]


class RecordHandlers:
    def __init__(
        self,
        *,
        enrich: Enrich,
        writer: WaitingWriter,
        schedule: RetrySchedule,
        activation: Activation,
        clock: Callable[[], float],
    ) -> None:
        self._enrich = enrich
        self._writer = writer
        self._schedule = schedule
        self._activation = activation
        self._clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    async def hr(self, record: Record) -> None:
        """A record of `hr.users.v1`."""
        event = decode(record)
        hr = HrPlace.of(record)
        try:
            user = await self._enrich(record, event, hr.offset)
        except UserNotFound:
            await self._writer.write(record, self._schedule.first(event, hr, self._now()))
            return
        await self._activation.watch(record, event, hr, user)

    async def due(self, record: Record) -> None:
        """A record of a retry tier, come due."""
        where = waiting_of(record)
        event = decode(record)
        if where.reason == "activation":
            await self._activation.recheck(record, event, where)
            return
        try:
            user = await self._enrich(record, event, where.hr_offset)
        except UserNotFound:
            later = self._schedule.next(event, where, self._now())
            if later is None:
                raise NotFoundInTime(where) from None
            await self._writer.write(record, later)
            return
        await self._activation.watch(record, event, HrPlace.waited(where), user)
