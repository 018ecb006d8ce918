"""Turn a valid HR record into an acknowledged Kafka event, once per delivery id.

A request waits a bounded time (`wait_s`) for the broker. The record, once handed to the
producer, stays in flight when the request gives up with 503: it may still be written when
the broker comes back, and a retry of the same delivery joins it instead of writing a
second copy. Deliveries without an id get a fresh event each time.

Deduplication: the event id is derived from the delivery id (uuid5), so every delivery of
one id names the same event; `DeliveryIndex` (rebuilt from the HR topic) knows which ids
were accepted, and `_inflight` which are being written right now.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import NamedTuple, Protocol

from onboarding_events import HrUser, hr_user_upserted_json
from onboarding_runtime.kafka import PublishError

from ingest_service.delivery_index import DELIVERY_ID_HEADER, DeliveryIndex

SOURCE = "urn:onboarding:ingest-service"
# Event ids derived from the delivery id: a re-delivery maps to the same event id.
_EVENT_ID_NAMESPACE = uuid.UUID("4c4cf3b1-3a7e-4b0e-9a53-9a4a6c1f6f0e")
_NAMESPACE_BYTES = _EVENT_ID_NAMESPACE.bytes

Headers = list[tuple[str, bytes]]
# How late past its deadline a wait for the broker may be answered 503.
_SWEEP_S = 0.05
# A batch's records are handled this many at a time between turns of the event loop, so a
# batch holds up the webhooks beside it only briefly.
YIELD_EVERY = 100


class Enqueue(Protocol):
    """Hand a record (key, CloudEvent JSON) to Kafka; the future settles on the broker's
    acknowledgement."""

    def __call__(self, key: str, value: bytes, headers: Headers) -> asyncio.Future[None]: ...


class Unavailable(Exception):
    """The broker did not acknowledge in time (or the index is loading): answer 503."""


# Built per request, like `Answer` and `Caller`: a NamedTuple, a third of a frozen dataclass's cost.
class Outcome(NamedTuple):
    event_id: str
    duplicate: bool  # an earlier delivery with this id was already written, or is being


class Handed(NamedTuple):
    event_id: str
    duplicate: bool
    acknowledged: asyncio.Future[None] | None  # None: written before, nothing to wait for


def event_id_for(delivery_id: str) -> str:
    """`str(uuid.uuid5(namespace, delivery_id))`, without building a `UUID` (per request)."""
    h = hashlib.sha1(_NAMESPACE_BYTES + delivery_id.encode()).hexdigest()
    # version 5 in the 13th digit; the RFC 4122 variant (binary 10xx) in the 17th
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def hr_event(user: HrUser, event_id: str) -> bytes:
    """The `hr.user.upserted` CloudEvent, as the record's value."""
    return hr_user_upserted_json(user, event_id=event_id, source=SOURCE, time=datetime.now(UTC))


class Acceptor:
    def __init__(self, enqueue: Enqueue, index: DeliveryIndex, *, wait_s: float) -> None:
        self._enqueue = enqueue
        self._index = index
        self._wait_s = wait_s
        self._inflight: dict[str, asyncio.Future[None]] = {}
        self._deadlines: deque[tuple[float, asyncio.Future[None]]] = deque()
        self._sweeper: asyncio.Task[None] | None = None

    async def accept(self, user: HrUser, delivery_id: str | None, headers: Headers) -> Outcome:
        """Raises `Unavailable` when the broker has not acknowledged within `wait_s`."""
        handed = self.hand_over(user, delivery_id, headers)
        if handed.acknowledged is not None:
            await self._bounded(handed.acknowledged)
        return Outcome(handed.event_id, handed.duplicate)

    async def accept_all(
        self, records: Sequence[tuple[HrUser, str | None]], headers: Headers
    ) -> list[Outcome | None]:
        """A batch: each record's outcome, or `None` where the broker has not acknowledged
        within `wait_s` (one wait for them all).

        The records are handed to the producer in order, so each employee's records reach
        their partition in order and are acknowledged in that order. After a record the
        producer refuses, none is handed over: a record is never written after a later one
        of the same employee. Raises `Unavailable` before handing over anything when the
        index is loading and the batch has a delivery id.
        """
        if not self._index.ready and any(delivery is not None for _, delivery in records):
            raise Unavailable("still reading which deliveries were accepted")
        handed: list[Handed] = []
        for user, delivery_id in records:
            if handed and not len(handed) % YIELD_EVERY:
                await asyncio.sleep(0)  # other requests' turn (a retry of this batch joins)
            try:
                handed.append(self.hand_over(user, delivery_id, headers))
            except Unavailable:
                break
        waiting = {h.acknowledged for h in handed if h.acknowledged is not None}
        if waiting:
            for acknowledged in waiting:  # an outcome nobody waits for any more is still read
                acknowledged.add_done_callback(_observed)
            await asyncio.wait(waiting, timeout=self._wait_s)
        outcomes: list[Outcome | None] = [None] * len(records)
        for n, h in enumerate(handed):
            if h.acknowledged is None or _succeeded(h.acknowledged):
                outcomes[n] = Outcome(h.event_id, h.duplicate)
        return outcomes

    def hand_over(self, user: HrUser, delivery_id: str | None, headers: Headers) -> Handed:
        """Give the record to the producer, unless its delivery was written or is being
        written; raises `Unavailable` (index loading, or the producer refused it)."""
        if delivery_id is None:
            event_id = str(uuid.uuid4())
            acknowledged = self._send(user.employee_id, hr_event(user, event_id), headers)
            return Handed(event_id, False, acknowledged)
        event_id = event_id_for(delivery_id)
        if delivery_id in self._index:
            return Handed(event_id, True, None)
        pending = self._inflight.get(delivery_id)
        if pending is not None:
            return Handed(event_id, True, pending)
        if not self._index.ready:
            raise Unavailable("still reading which deliveries were accepted")
        headers = [*headers, (DELIVERY_ID_HEADER, delivery_id.encode())]
        # No await from the look-up above to here: two deliveries of one id cannot both
        # get past it and write twice.
        acknowledged = self._send(user.employee_id, hr_event(user, event_id), headers)
        self._inflight[delivery_id] = acknowledged
        acknowledged.add_done_callback(partial(self._settle, delivery_id))
        return Handed(event_id, False, acknowledged)

    def _send(self, key: str, value: bytes, headers: Headers) -> asyncio.Future[None]:
        try:
            return self._enqueue(key, value, headers)
        except PublishError as exc:
            raise Unavailable(str(exc)) from None

    async def _bounded(self, outcome: asyncio.Future[None]) -> None:
        """Wait for `outcome` for at most `wait_s`; giving up leaves it to settle unwatched.

        One deadline queue and one sweeper instead of a timer and a shield per request:
        those were about a tenth of an accepted webhook's CPU. Deadlines are `wait_s` after
        each start, so the queue is in deadline order.
        """
        waiter = asyncio.get_running_loop().create_future()
        outcome.add_done_callback(partial(_forward, waiter))
        self._deadlines.append((time.monotonic() + self._wait_s, waiter))
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        try:
            await waiter
        except PublishError as exc:
            raise Unavailable(str(exc)) from None

    async def _sweep(self) -> None:
        """Answer `Unavailable` to every wait past its deadline, within `_SWEEP_S` of it."""
        deadlines = self._deadlines
        try:
            while deadlines:
                now = time.monotonic()
                while deadlines and (deadlines[0][1].done() or deadlines[0][0] <= now):
                    _, waiter = deadlines.popleft()
                    if not waiter.done():
                        waiter.set_exception(Unavailable("Kafka did not acknowledge in time"))
                await asyncio.sleep(_SWEEP_S)
        finally:
            self._sweeper = None

    def _settle(self, delivery_id: str, pending: asyncio.Future[None]) -> None:
        if self._inflight.get(delivery_id) is pending:
            del self._inflight[delivery_id]
        if not pending.cancelled() and pending.exception() is None:
            self._index.add(delivery_id)
        # else: the next delivery of this id tries again (same event id)

    async def drain(self, timeout_s: float) -> None:
        """At shutdown: let the writes in flight settle, for a bounded time."""
        pending = list(self._inflight.values())
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)


def _succeeded(acknowledged: asyncio.Future[None]) -> bool:
    return acknowledged.done() and not acknowledged.cancelled() and acknowledged.exception() is None


def _observed(acknowledged: asyncio.Future[None]) -> None:
    if not acknowledged.cancelled():
        acknowledged.exception()  # retrieved: no "exception was never retrieved" at exit


def _forward(pending: asyncio.Future[None], acknowledged: asyncio.Future[None]) -> None:
    if pending.done():
        return
    if acknowledged.cancelled():
        pending.set_exception(PublishError("the send was cancelled"))
    elif (exc := acknowledged.exception()) is not None:
        pending.set_exception(exc)
    else:
        pending.set_result(None)
