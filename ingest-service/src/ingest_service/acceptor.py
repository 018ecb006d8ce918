"""Turn a valid HR record into an acknowledged Kafka event, once per delivery id.

A request waits a bounded time (`wait_s`) for the broker. The publish itself runs as a task
that outlives the request: if the request gives up with 503, the record may still be
written when the broker comes back, and a retry of the same delivery joins that task
instead of writing a second copy. Deliveries without an id get a fresh event each time.

Deduplication (see `deliveries.py`): in-process, an in-flight task or a recent outcome per
delivery id; across restarts and replicas, the durable store. The event id is derived from
the delivery id (uuid5), so even when the store is down a re-delivery carries the same id.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar

from onboarding_events import HR_USER_UPSERTED, HrUser, HrUserUpserted
from onboarding_runtime.kafka import PublishError

from ingest_service.deliveries import DeliveryStore, StoreUnavailable, utc_now_ms
from ingest_service.metrics import DEDUPE_STORE_ERRORS

log = logging.getLogger(__name__)

SOURCE = "urn:onboarding:ingest-service"
# Event ids derived from the delivery id: a re-delivery maps to the same event id.
_EVENT_ID_NAMESPACE = uuid.UUID("4c4cf3b1-3a7e-4b0e-9a53-9a4a6c1f6f0e")

Headers = list[tuple[str, bytes]]
Publish = Callable[[HrUserUpserted, Headers], Awaitable[None]]
T = TypeVar("T")


class Unavailable(Exception):
    """The broker did not acknowledge in time: answer 503, the sender retries."""


@dataclass(frozen=True)
class Outcome:
    event: HrUserUpserted
    duplicate: bool  # an earlier delivery with this id was already written


def event_id_for(delivery_id: str) -> str:
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, delivery_id))


def hr_event(user: HrUser, event_id: str, time: datetime) -> HrUserUpserted:
    return HrUserUpserted(
        id=event_id,
        source=SOURCE,
        type=HR_USER_UPSERTED,
        time=time,
        subject=user.employee_id,
        data=user,
    )


class Acceptor:
    def __init__(
        self,
        publish: Publish,
        store: DeliveryStore | None,
        *,
        wait_s: float,
        store_timeout_s: float = 1.0,
        recent: int = 10_000,
    ) -> None:
        self._publish = publish
        self._store = store
        self._wait_s = wait_s
        self._store_timeout_s = store_timeout_s
        self._recent_max = recent
        self._recent: OrderedDict[str, HrUserUpserted] = OrderedDict()
        self._inflight: dict[str, asyncio.Task[Outcome]] = {}
        self._background: set[asyncio.Task[None]] = set()

    async def accept(self, user: HrUser, delivery_id: str | None, headers: Headers) -> Outcome:
        """Raises `Unavailable` when the broker has not acknowledged within `wait_s`."""
        if delivery_id is None:
            event = hr_event(user, str(uuid.uuid4()), utc_now_ms())
            write = asyncio.create_task(self._publish_task(event, headers))
            write.add_done_callback(_retrieve)
            await self._bounded(write)
            return Outcome(event, duplicate=False)
        recent = self._recent.get(delivery_id)
        if recent is not None:
            self._recent.move_to_end(delivery_id)
            return Outcome(recent, duplicate=True)
        task = self._inflight.get(delivery_id)
        joined = task is not None
        if task is None:
            task = asyncio.create_task(self._deliver(delivery_id, user, headers))
            self._inflight[delivery_id] = task
            task.add_done_callback(partial(self._settle, delivery_id))
        outcome = await self._bounded(task)
        return Outcome(outcome.event, duplicate=outcome.duplicate or joined)

    async def _bounded(self, task: asyncio.Task[T]) -> T:
        try:
            # shield: a request that gives up (or a client that hangs up) leaves the publish
            # running, so its outcome is known to the sender's retry.
            result = await asyncio.wait_for(asyncio.shield(task), self._wait_s)
        except TimeoutError:
            raise Unavailable("Kafka did not acknowledge in time") from None
        except PublishError as exc:
            raise Unavailable(str(exc)) from None
        return result

    async def _publish_task(self, event: HrUserUpserted, headers: Headers) -> None:
        await self._publish(event, headers)

    async def _deliver(self, delivery_id: str, user: HrUser, headers: Headers) -> Outcome:
        event_id, time, published = event_id_for(delivery_id), utc_now_ms(), False
        if self._store is not None:
            try:
                claim = await asyncio.wait_for(
                    self._store.claim(delivery_id, event_id, time), self._store_timeout_s
                )
                time, published = claim.time, claim.published
            except (StoreUnavailable, TimeoutError) as exc:
                DEDUPE_STORE_ERRORS.inc()
                log.warning("dedupe store unavailable, accepting without it: %r", exc)
        event = hr_event(user, event_id, time)
        if published:
            return Outcome(event, duplicate=True)
        await self._publish(event, headers)
        if self._store is not None:
            self._in_background(self._mark_published(delivery_id))
        return Outcome(event, duplicate=False)

    async def _mark_published(self, delivery_id: str) -> None:
        assert self._store is not None
        try:
            await asyncio.wait_for(self._store.mark_published(delivery_id), self._store_timeout_s)
        except (StoreUnavailable, TimeoutError) as exc:
            # A later re-delivery then publishes the same event (same id and time) again.
            DEDUPE_STORE_ERRORS.inc()
            log.warning("could not record the delivery as published: %r", exc)

    def _settle(self, delivery_id: str, task: asyncio.Task[Outcome]) -> None:
        if self._inflight.get(delivery_id) is task:
            del self._inflight[delivery_id]
        if task.cancelled() or task.exception() is not None:
            return  # the next delivery of this id tries again, with the stored time
        self._recent[delivery_id] = task.result().event
        if len(self._recent) > self._recent_max:
            self._recent.popitem(last=False)

    def _in_background(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self, timeout_s: float) -> None:
        """At shutdown: let publishes and bookkeeping in flight finish, for a bounded time."""
        pending = [*self._inflight.values(), *self._background]
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)


def _retrieve(task: asyncio.Task[None]) -> None:
    """Read the outcome of a publish nobody awaits any more, so asyncio doesn't warn."""
    if not task.cancelled():
        task.exception()
