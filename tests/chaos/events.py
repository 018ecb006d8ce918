"""The topics the checker reads, as typed records of the plan's employees: `hr.users.v1`,
`users.enriched.v1`, `hr.users.v1.dlq` and the retry tiers `hr.users.v1.retry.1` to `.5`.

Only records keyed by one of `employee_ids` are kept (the topics are shared with other
runs and tests); a value that is not the CloudEvent JSON the contract describes (or a
record with unreadable retry-tier headers) is counted in `unreadable`, never guessed at.

A waiting HR record leaves copies of itself: one on a retry tier for each time it was not
found, and, each time one comes due, that one written back to `hr.users.v1` unchanged, tier
headers and all, for the main consumer to look the person up again (its enrichment or dead
letter names the original HR record, `onboarding-hr-source`). Both are `Wait`s, kept apart
from `hr`: a waiting event is neither a second HR record nor a second delivery. An
activation replay (`onboarding-replay: activation`, no tier headers) is an HR record, a
marked copy like an operator's replay.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from onboarding_events import REDRIVE_HEADER, REPLAY_HEADER, Waiting
from onboarding_events.waiting import WAITING_HEADERS

from tests.chaos.sources import JsonObject, TopicRecord

DELIVERY_ID_HEADER = "delivery-id"
DLQ_SOURCE_HEADER = "dlq-source"

T = TypeVar("T")


@dataclass(frozen=True)
class HrEvent:
    """An `hr.user.upserted` record on `hr.users.v1` (not a wait written back to it)."""

    employee_id: str
    partition: int
    offset: int
    event_id: str
    time: datetime
    title: str | None
    delivery_id: str | None
    copy_marker: str | None  # `onboarding-replay` or `onboarding-redrive` when it is a copy


@dataclass(frozen=True)
class Enriched:
    """A `user.enriched` record on `users.enriched.v1`, or a tombstone (`data` None)."""

    employee_id: str
    partition: int
    offset: int
    data: JsonObject | None
    hr_event_id: str | None = None
    hr_offset: int | None = None
    time: datetime | None = None

    @property
    def tombstone(self) -> bool:
        return self.data is None


@dataclass(frozen=True)
class DeadLetter:
    employee_id: str
    offset: int
    event_id: str | None
    error_code: str | None
    hr_offset: int | None = None  # of the HR record on `hr.users.v1` (`dlq-source`)


@dataclass(frozen=True)
class Wait:
    """An HR record waiting for its person in Okta: on a retry tier, or come due and
    written back to `hr.users.v1` (`written_back`) with the tier's headers. Either way the
    same HR record (`hr_offset`), not a new one."""

    employee_id: str
    event_id: str
    waiting: Waiting  # its tier headers: tier, due time, deadline, HR record's offset
    written_back: bool = False

    @property
    def hr_offset(self) -> int:
        return self.waiting.hr_offset

    @property
    def order(self) -> tuple[int, datetime, bool]:
        """Later along its HR record's wait: more lookups, then a later due time; a copy
        written back comes after the tier record it was (the same headers)."""
        return self.waiting.lookups, self.waiting.due_at, self.written_back

    def overdue(self, now: datetime, slack_s: float) -> timedelta | None:
        """How long past its due time it is at `now`, if more than `slack_s`: no longer
        plausibly about to be handled (by the tier's consumer, or the main one)."""
        late = now - self.waiting.due_at
        return late if late > timedelta(seconds=slack_s) else None


@dataclass
class Topics:
    hr: dict[str, list[HrEvent]] = field(default_factory=dict)
    enriched: dict[str, list[Enriched]] = field(default_factory=dict)
    dead_letters: dict[str, list[DeadLetter]] = field(default_factory=dict)
    waits: dict[str, list[Wait]] = field(default_factory=dict)  # tier records, written back
    unreadable: int = 0

    def hr_at(self, employee_id: str, offset: int) -> HrEvent | None:
        """The HR record of this employee at this offset (one key, one partition)."""
        return next((e for e in self.hr.get(employee_id, []) if e.offset == offset), None)

    def last_enriched(self, employee_id: str) -> Enriched | None:
        found = self.enriched.get(employee_id)
        return found[-1] if found else None

    def open_wait(self, employee_id: str, event_id: str) -> Wait | None:
        """Where the event waits now, if it does: none of its enrichments is on the topic,
        its newest HR record (by offset: a replayed or redriven copy is newer than the
        original) is not dead-lettered, and that record has waited: its newest `Wait`
        (`Wait.order`). Whether it is still plausibly pending is for the check time to
        say (`Wait.overdue`)."""
        who = employee_id
        enriched = self.enriched.get(who, [])
        if any(r.hr_event_id == event_id for r in enriched if not r.tombstone):
            return None
        letters = [d for d in self.dead_letters.get(who, []) if d.event_id == event_id]
        if any(d.hr_offset is None for d in letters):
            return None  # a dead letter that does not say which record: the event failed
        waits = [w for w in self.waits.get(who, []) if w.event_id == event_id]
        records = {e.offset for e in self.hr.get(who, []) if e.event_id == event_id}
        newest = max(records | {w.hr_offset for w in waits}, default=None)
        if newest is None or newest in {d.hr_offset for d in letters}:
            return None
        return max((w for w in waits if w.hr_offset == newest), key=lambda w: w.order, default=None)


def parse_topics(
    hr: Iterable[TopicRecord],
    enriched: Iterable[TopicRecord],
    dead_letters: Iterable[TopicRecord],
    employee_ids: Collection[str],
    *,
    retry_tiers: Iterable[TopicRecord] = (),
) -> Topics:
    """`retry_tiers`: the records of all five tiers, in any order."""
    topics = Topics()
    for record in hr:
        if record.key is None or record.key not in employee_ids:
            continue
        if any(name in WAITING_HEADERS for name, _ in record.headers):
            _keep(topics, topics.waits, record.key, _wait(record, written_back=True))
        else:
            _keep(topics, topics.hr, record.key, _hr_event(record))
    for record in enriched:
        if record.key is not None and record.key in employee_ids:
            _keep(topics, topics.enriched, record.key, _enriched(record))
    for record in dead_letters:
        if record.key is not None and record.key in employee_ids:
            _keep(topics, topics.dead_letters, record.key, _dead_letter(record))
    for record in retry_tiers:
        if record.key is not None and record.key in employee_ids:
            _keep(topics, topics.waits, record.key, _wait(record, written_back=False))
    for events in topics.hr.values():
        events.sort(key=lambda e: e.offset)
    for records in topics.enriched.values():
        records.sort(key=lambda r: r.offset)
    return topics


def _keep(topics: Topics, into: dict[str, list[T]], key: str, parsed: T | None) -> None:
    if parsed is None:
        topics.unreadable += 1
    else:
        into.setdefault(key, []).append(parsed)


def _event(record: TopicRecord) -> JsonObject | None:
    if record.value is None:
        return None
    try:
        event = json.loads(record.value)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _time(value: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _hr_event(record: TopicRecord) -> HrEvent | None:
    event = _event(record)
    if event is None or not isinstance(event.get("id"), str):
        return None
    time = _time(event.get("time"))
    data = event.get("data")
    if time is None or not isinstance(data, dict):
        return None
    delivery = record.header(DELIVERY_ID_HEADER)
    marker = next(
        (h for h in (REPLAY_HEADER, REDRIVE_HEADER) if record.header(h) is not None), None
    )
    return HrEvent(
        employee_id=str(record.key),
        partition=record.partition,
        offset=record.offset,
        event_id=event["id"],
        time=time,
        title=data.get("title"),
        delivery_id=delivery.decode(errors="replace") if delivery is not None else None,
        copy_marker=marker,
    )


def _enriched(record: TopicRecord) -> Enriched | None:
    if record.value is None:
        return Enriched(str(record.key), record.partition, record.offset, None)
    event = _event(record)
    if event is None or not isinstance(event.get("data"), dict):
        return None
    try:
        hr_offset = int(event.get("hroffset", ""))
    except ValueError:
        return None
    time = _time(event.get("time"))
    if time is None:
        return None
    return Enriched(
        employee_id=str(record.key),
        partition=record.partition,
        offset=record.offset,
        data=event["data"],
        hr_event_id=str(event.get("hreventid")),
        hr_offset=hr_offset,
        time=time,
    )


def _dead_letter(record: TopicRecord) -> DeadLetter:
    """Kept even when the value is unreadable: the value is whatever the HR record was."""
    event = _event(record)
    event_id = event.get("id") if event is not None else None
    code = record.header("dlq-error-code")
    source = (record.header(DLQ_SOURCE_HEADER) or b"").decode(errors="replace")
    offset = source.rsplit("/", 1)[-1]
    return DeadLetter(
        employee_id=str(record.key),
        offset=record.offset,
        event_id=event_id if isinstance(event_id, str) else None,
        error_code=code.decode(errors="replace") if code is not None else None,
        hr_offset=int(offset) if source.count("/") >= 2 and offset.isdigit() else None,
    )


def _wait(record: TopicRecord, *, written_back: bool) -> Wait | None:
    event = _event(record)
    try:
        waiting = Waiting.of(record.headers)
    except ValueError:
        return None
    if event is None or not isinstance(event.get("id"), str) or waiting is None:
        return None
    return Wait(str(record.key), event["id"], waiting, written_back)
