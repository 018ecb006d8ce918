"""Enriched before the Okta account is active: looked up again until it is.

HR sends people before their start; their account often exists already, `STAGED` or
`PROVISIONED`, so they are enriched at once with `onboarded` false. Such a person, with a
start date, waits on the retry tiers as `activation` (`onboarding_events.waiting`) until that
date plus `ENRICH_PREHIRE_GRACE_S`. Each time it comes due the account is looked up: active
now, the HR record is written to `hr.users.v1` again, marked `onboarding-replay: activation`,
and enriched again like an operator's replay (its new offset makes a newer version of the
same event, so `onboarded` turns true; a newer HR event of the employee still outranks it).
Not active yet, it waits on the next tier; past its time, nothing more is done. A recheck of
a state that is no longer the newest published (a newer event went out), or of an erased
person, is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from onboarding_events import (
    HR_USERS_TOPIC,
    REPLAY_HEADER,
    EnrichedUser,
    HrUserUpserted,
    Waiting,
    is_onboarded,
)
from onboarding_events.waiting import ACTIVATION_REPLAY, without_waiting
from onboarding_runtime.kafka import (
    BrokerUnavailable,
    EventProducer,
    PublishError,
    Record,
    RetryableError,
    UnavailableError,
)
from onboarding_runtime.view.versions import version_of
from prometheus_client import Counter

from enrich_service.handlers import Erased, Published
from enrich_service.okta import Okta
from enrich_service.waiting import HrPlace, RetrySchedule, WaitingWriter

ACTIVATIONS = Counter(
    "onboarding_enrich_activations_total",
    "HR events enriched again because the person's Okta account became active",
)
REPLAY_MARK = (REPLAY_HEADER, ACTIVATION_REPLAY)


class Activation:
    def __init__(
        self,
        *,
        okta: Okta,
        producer: EventProducer,
        writer: WaitingWriter,
        schedule: RetrySchedule,
        published: Published,
        erased: Erased,
        clock: Callable[[], float],
    ) -> None:
        self._okta = okta
        self._producer = producer
        self._writer = writer
        self._schedule = schedule
        self._published = published
        self._erased = erased
        self._clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    async def watch(
        self, record: Record, event: HrUserUpserted, hr: HrPlace, user: EnrichedUser | None
    ) -> None:
        """After `user` was published from the HR record at `hr`: not onboarded yet, with a
        start date not long past, they wait for their account's activation."""
        if user is None or user.onboarded:
            return
        waiting = self._schedule.activation(event, hr, self._now())
        if waiting is not None:
            await self._writer.write(record, waiting)

    async def recheck(self, record: Record, event: HrUserUpserted, waiting: Waiting) -> None:
        """A wait for activation come due."""
        version = version_of(event.time, waiting.hr_offset)
        if self._erased(event.subject, event.time):
            return
        if not self._published.is_current(event.subject, version):
            return  # a newer state of the employee went out: it is the one that counts
        try:
            account = await self._okta.find_user_by_email(event.data.email)
        except UnavailableError:
            raise  # Okta is down: the breaker waits for it, then this asks again
        except RetryableError:
            account = None  # asked again on the next tier: never a dead letter for a recheck
        if account is not None and is_onboarded(account.status):
            await self._enrich_again(record)
            ACTIVATIONS.inc()
            return
        later = self._schedule.next(event, waiting, self._now())
        if later is not None:
            await self._writer.write(record, later)

    async def _enrich_again(self, record: Record) -> None:
        kept = [(k, v) for k, v in without_waiting(record.headers or ()) if k != REPLAY_HEADER]
        try:
            await self._producer.publish(
                HR_USERS_TOPIC,
                key=(record.key or b"").decode("utf-8", "replace"),
                value=record.value,
                headers=[*kept, REPLAY_MARK],
            )
        except PublishError:
            raise BrokerUnavailable() from None
