"""What enrich-service's two consumers do with a record.

One writer per employee: only the `hr.users.v1` consumer (whose lanes keep each employee's
records in order) looks people up and publishes them. It enriches a record now, or, its
person not in Okta yet, writes it to a retry tier and goes on (it waits there, not here).
The retry tiers' consumer only waits: a record come due is written back to `hr.users.v1`,
its retry headers kept, so the same lanes look again, with the HR record's version
(`onboarding-hr-source`), and enrich it, or send it to the next tier, or, past its time,
dead-letter it (`waiting.py`). A wait for an account's activation is the tiers' consumer's
own (`activation.py`): it replays the HR record once the account is active.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from onboarding_events import EnrichedUser, HrUserUpserted, Waiting
from onboarding_runtime.kafka import PermanentError, Record

from enrich_service.activation import Activation
from enrich_service.handlers import Found, UserNotFound
from enrich_service.records import decode
from enrich_service.waiting import (
    HrPlace,
    NotFoundInTime,
    RetrySchedule,
    WaitingWriter,
    waiting_of,
)


class Enrich(Protocol):
    """Enrich and publish the event of a record (`handlers.on_hr_user_upserted`)."""

    def __call__(
        self,
        record: Record,
        event: HrUserUpserted,
        hr_offset: int,
        *,
        waited: bool,
        found: Found,
    ) -> Awaitable[EnrichedUser | None]: ...


# Whether the employee was erased after the event, every erasure written so far read first.
ErasedNow = Callable[[HrUserUpserted], Awaitable[bool]]


class RecordHandlers:
    def __init__(
        self,
        *,
        enrich: Enrich,
        writer: WaitingWriter,
        schedule: RetrySchedule,
        activation: Activation,
        erased_now: ErasedNow,
        clock: Callable[[], float],
    ) -> None:
        self._enrich = enrich
        self._writer = writer
        self._schedule = schedule
        self._activation = activation
        self._erased_now = erased_now
        self._clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    async def hr(self, record: Record) -> None:
        """A record of `hr.users.v1`: as HR sent it, or written back after a wait."""
        event = decode(record)
        waited = _waited(record)
        hr = HrPlace.waited(waited) if waited is not None else HrPlace.of(record)

        async def found(user: EnrichedUser) -> None:
            await self._activation.watch(record, event, hr, user)

        try:
            await self._enrich(record, event, hr.offset, waited=waited is not None, found=found)
        except UserNotFound:
            now = self._now()
            if waited is None:
                later = self._schedule.first(event, hr, now)
            elif (after := self._schedule.next(event, waited, now)) is not None:
                later = after
            else:
                raise NotFoundInTime(waited) from None
            if await self._erased_now(event):
                return  # erased while Okta was asked: no copy of their record is made
            await self._writer.write(record, later)

    async def due(self, record: Record) -> None:
        """A record of a retry tier, come due."""
        where = waiting_of(record)
        if where.reason == "activation":
            await self._activation.recheck(record, decode(record), where)
        else:
            await self._writer.back(record)


def _waited(record: Record) -> Waiting | None:
    """The retry headers of a record written back after a wait (None: fresh from HR). A
    wait for activation never comes back this way: its replay is a fresh HR record."""
    try:
        waited = Waiting.of(record.headers or ())
    except ValueError:
        raise PermanentError(
            "an HR record with unreadable retry headers", code="invalid_event"
        ) from None
    return None if waited is None or waited.reason == "activation" else waited
