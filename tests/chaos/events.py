"""The topics the checker reads, as typed records of the plan's employees: `hr.users.v1`,
`users.enriched.v1`, `hr.users.v1.dlq` and the retry tiers `hr.users.v1.retry.1` to `.5`.

Only records keyed by one of `employee_ids` are kept (the topics are shared with other
runs and tests); a value that is not the CloudEvent JSON the contract describes (or a
retry-tier record without readable tier headers) is counted in `unreadable`, never guessed
at. A retry-tier record is the HR record written again to wait for Okta: it is kept apart
from `hr`, so a waiting event is neither a second HR record nor a second delivery.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from onboarding_events import REDRIVE_HEADER, REPLAY_HEADER, Waiting

from tests.chaos.sources import JsonObject, TopicRecord

DELIVERY_ID_HEADER = "delivery-id"
DLQ_SOURCE_HEADER = "dlq-source"

T = TypeVar("T")


@dataclass(frozen=True)
class HrEvent:
    """An `hr.user.upserted` record on `hr.users.v1`."""

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
class TierRecord:
    """An HR record waiting on a retry tier for its person to appear in Okta."""

    employee_id: str
    event_id: str
    waiting: Waiting  # its tier headers: tier, due time, deadline, HR record's offset

    @property
    def hr_offset(self) -> int:
        return self.waiting.hr_offset


@dataclass
class Topics:
    hr: dict[str, list[HrEvent]] = field(default_factory=dict)
    enriched: dict[str, list[Enriched]] = field(default_factory=dict)
    dead_letters: dict[str, list[DeadLetter]] = field(default_factory=dict)
    tiers: dict[str, list[TierRecord]] = field(default_factory=dict)  # retry-tier records
    unreadable: int = 0

    def hr_at(self, employee_id: str, offset: int) -> HrEvent | None:
        """The HR record of this employee at this offset (one key, one partition)."""
        return next((e for e in self.hr.get(employee_id, []) if e.offset == offset), None)

    def last_enriched(self, employee_id: str) -> Enriched | None:
        found = self.enriched.get(employee_id)
        return found[-1] if found else None

    def still_waiting(self, employee_id: str, event_id: str) -> TierRecord | None:
        """The retry-tier record the event waits on now, if it does: none of its
        enrichments is on the topic, and some HR record of it went to a tier and was not
        dead-lettered since (a redriven copy that waits again is matched by its own HR
        offset, not by the dead letter of the original)."""
        who = employee_id
        enriched = self.enriched.get(who, [])
        if any(r.hr_event_id == event_id for r in enriched if not r.tombstone):
            return None
        letters = [d for d in self.dead_letters.get(who, []) if d.event_id == event_id]
        if any(d.hr_offset is None for d in letters):
            return None  # a dead letter that does not say which record: the event failed
        done = {d.hr_offset for d in letters}
        tiers = [
            t for t in self.tiers.get(who, []) if t.event_id == event_id and t.hr_offset not in done
        ]
        return max(tiers, key=lambda t: t.waiting.due_at, default=None)


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
        if record.key is not None and record.key in employee_ids:
            _keep(topics, topics.hr, record.key, _hr_event(record))
    for record in enriched:
        if record.key is not None and record.key in employee_ids:
            _keep(topics, topics.enriched, record.key, _enriched(record))
    for record in dead_letters:
        if record.key is not None and record.key in employee_ids:
            _keep(topics, topics.dead_letters, record.key, _dead_letter(record))
    for record in retry_tiers:
        if record.key is not None and record.key in employee_ids:
            _keep(topics, topics.tiers, record.key, _tier_record(record))
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


def _tier_record(record: TopicRecord) -> TierRecord | None:
    event = _event(record)
    try:
        waiting = Waiting.of(record.headers)
    except ValueError:
        return None
    if event is None or not isinstance(event.get("id"), str) or waiting is None:
        return None
    return TierRecord(str(record.key), event["id"], waiting)
