"""People not in Okta yet wait on the retry tiers, not in memory (`onboarding_events.waiting`).

The main consumer meets a person Okta does not know: the HR record is written, unchanged,
to tier 1 and the consumer commits past it at once, so a thousand pre-hires block nobody
and survive restarts. The tiers' consumer (`ConsumerRunner(due=due_at)`) writes each record
back to `hr.users.v1` when it comes due (`consumers.py`: one writer per employee); not
found again, it goes one tier further (the last tier repeats) until its `wait_until`, then
it is dead-lettered as `okta_user_not_found` under its HR record's place, so the status view
and a redrive treat it as the HR record's failure.

How long a person may stay unknown to Okta: `ENRICH_NOT_FOUND_RETRY_S` after the first
lookup, or, for a hire whose start date is ahead, until that date plus
`ENRICH_PREHIRE_GRACE_S`, whichever is later. While the start date is ahead they are
`scheduled`, not `pending`. Either way a person is dead-lettered at the first lookup after
that time, never before it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from onboarding_events import HR_USERS_TOPIC, HrUserUpserted, Waiting
from onboarding_events.waiting import RETRY_TIERS, Reason, without_waiting
from onboarding_runtime.kafka import (
    BrokerUnavailable,
    DeadLetter,
    EventProducer,
    Failure,
    PermanentError,
    PublishError,
    Record,
    RecordCopy,
)
from prometheus_client import Counter

WAITING_WRITTEN = Counter(
    "onboarding_enrich_waiting_total",
    "HR events written to a retry tier to be looked up again later",
    ["tier", "reason"],
)


@dataclass(frozen=True)
class HrPlace:
    """Where an HR record is on `hr.users.v1`: its version's offset."""

    topic: str
    partition: int
    offset: int

    @classmethod
    def of(cls, record: Record) -> HrPlace:
        return cls(record.topic, record.partition, record.offset)

    @classmethod
    def waited(cls, waiting: Waiting) -> HrPlace:
        return cls(waiting.hr_topic, waiting.hr_partition, waiting.hr_offset)


@dataclass(frozen=True)
class RetrySchedule:
    """When a person unknown to Okta is looked up again, and until when."""

    delays_s: tuple[float, ...]  # tier n waits delays_s[n-1]; the last one repeats
    not_found_retry_s: float
    prehire_grace_s: float

    def __post_init__(self) -> None:
        if not 1 <= len(self.delays_s) <= RETRY_TIERS:
            raise ValueError(f"between 1 and {RETRY_TIERS} retry delays, please")

    def first(self, event: HrUserUpserted, hr: HrPlace, now: datetime) -> Waiting:
        """The first wait of the HR record at `hr` (of `event`), not found at `now`."""
        return Waiting(
            tier=1,
            due_at=now + timedelta(seconds=self.delays_s[0]),
            first_attempt_at=now,
            wait_until=self.wait_until(event.data.start_date, now),
            hr_topic=hr.topic,
            hr_partition=hr.partition,
            hr_offset=hr.offset,
            reason=_reason(event, now),
        )

    def activation(self, event: HrUserUpserted, hr: HrPlace, now: datetime) -> Waiting | None:
        """The first wait for the account of the HR record at `hr`, published at `now` as
        not onboarded, to become active: until its start date plus the grace; None
        without a start date or past that."""
        start = event.data.start_date
        if start is None or now >= (until := _midnight(start) + self.grace):
            return None
        return Waiting(
            tier=1,
            due_at=now + timedelta(seconds=self.delays_s[0]),
            first_attempt_at=now,
            wait_until=until,
            hr_topic=hr.topic,
            hr_partition=hr.partition,
            hr_offset=hr.offset,
            reason="activation",
        )

    @property
    def grace(self) -> timedelta:
        return timedelta(seconds=self.prehire_grace_s)

    def wait_until(self, start: date | None, now: datetime) -> datetime:
        """Until when a person first looked up at `now` may be unknown to Okta."""
        until = now + timedelta(seconds=self.not_found_retry_s)
        if start is not None:
            until = max(until, _midnight(start) + self.grace)
        return until

    def next(self, event: HrUserUpserted, waiting: Waiting, now: datetime) -> Waiting | None:
        """The wait after `waiting`, looked up at `now` and not found; None: past its time."""
        if now >= waiting.wait_until:
            return None
        tier = min(waiting.tier + 1, len(self.delays_s))
        return replace(
            waiting,
            tier=tier,
            due_at=now + timedelta(seconds=self.delays_s[tier - 1]),
            reason="activation" if waiting.reason == "activation" else _reason(event, now),
            lookups=waiting.lookups + 1,
        )

    def describe(self) -> str:
        """The schedule in words, for the preview's answer."""
        return (
            ", ".join(f"{d:g} s" for d in self.delays_s)
            + " (then every "
            + (f"{self.delays_s[-1]:g} s)")
        )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _reason(event: HrUserUpserted, now: datetime) -> Reason:
    start = event.data.start_date
    return "scheduled" if start is not None and start > now.date() else "pending"


def parse_delays(text: str) -> tuple[float, ...]:
    """`ENRICH_RETRY_DELAYS_S`: seconds, comma-separated (`10,60,600,3600,86400`)."""
    return tuple(float(part) for part in text.split(",") if part.strip())


class WaitingWriter:
    """Writes an HR record to its retry tier; awaited until Kafka has it (`acks=all`), so
    the caller may commit past the record it came from."""

    def __init__(self, producer: EventProducer) -> None:
        self._producer = producer

    async def write(self, record: Record, waiting: Waiting) -> None:
        headers = [*without_waiting(record.headers or ()), *waiting.headers()]
        try:
            await self._producer.publish(
                waiting.topic,
                key=(record.key or b"").decode("utf-8", "replace"),
                value=record.value,
                headers=headers,
            )
        except PublishError:
            raise BrokerUnavailable() from None  # the record waits for the broker instead
        WAITING_WRITTEN.labels(str(waiting.tier), waiting.reason).inc()

    async def back(self, record: Record) -> None:
        """A tier's record come due, back to `hr.users.v1` as it is (its retry headers say
        where it came from and how long it may still wait)."""
        try:
            await self._producer.publish(
                HR_USERS_TOPIC,
                key=(record.key or b"").decode("utf-8", "replace"),
                value=record.value,
                headers=list(record.headers or ()),
            )
        except PublishError:
            raise BrokerUnavailable() from None


def waiting_of(record: Record) -> Waiting:
    """A tier record's headers; a record without readable ones is dead-lettered."""
    try:
        waiting = Waiting.of(record.headers or ())
    except ValueError:
        waiting = None
    if waiting is None:
        raise PermanentError("a retry-tier record without its headers", code="invalid_event")
    return waiting


class NotFoundInTime(PermanentError):
    def __init__(self, waiting: Waiting) -> None:
        super().__init__(
            f"no Okta user with this email by {waiting.wait_until.isoformat()}",
            code="okta_user_not_found",
        )


def dead_letter_as_hr(dead_letter: DeadLetter) -> DeadLetter:
    """`dead_letter` for the tiers' consumer: the dead letter names the HR record's place
    (`dlq-source`) and its first lookup, so it is that HR record's failure (same version in
    the status view, and a redrive sends it back as such)."""

    async def send(record: Record, failure: Failure) -> None:
        try:
            waiting = Waiting.of(record.headers or ())
        except ValueError:
            waiting = None
        if waiting is None:
            return await dead_letter(record, failure)
        at_hr = RecordCopy(
            topic=waiting.hr_topic,
            partition=waiting.hr_partition,
            offset=waiting.hr_offset,
            timestamp=record.timestamp,
            key=record.key,
            value=record.value,
            headers=record.headers or (),
        )
        first = min(failure.first_failure, waiting.first_attempt_at)
        attempts = waiting.lookups + failure.attempts
        await dead_letter(at_hr, replace(failure, first_failure=first, attempts=attempts))

    return send
