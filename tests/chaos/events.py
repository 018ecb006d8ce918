"""The three topics the checker reads, as typed records of the plan's employees.

Only records keyed by one of `employee_ids` are kept (the topics are shared with other
runs and tests); a value that is not the CloudEvent JSON the contract describes is counted
in `unreadable`, never guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from onboarding_events import REDRIVE_HEADER, REPLAY_HEADER

from tests.chaos.sources import JsonObject, TopicRecord

DELIVERY_ID_HEADER = "delivery-id"

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


@dataclass
class Topics:
    hr: dict[str, list[HrEvent]] = field(default_factory=dict)
    enriched: dict[str, list[Enriched]] = field(default_factory=dict)
    dead_letters: dict[str, list[DeadLetter]] = field(default_factory=dict)
    unreadable: int = 0

    def hr_at(self, employee_id: str, offset: int) -> HrEvent | None:
        """The HR record of this employee at this offset (one key, one partition)."""
        return next((e for e in self.hr.get(employee_id, []) if e.offset == offset), None)

    def last_enriched(self, employee_id: str) -> Enriched | None:
        found = self.enriched.get(employee_id)
        return found[-1] if found else None


def parse_topics(
    hr: Iterable[TopicRecord],
    enriched: Iterable[TopicRecord],
    dead_letters: Iterable[TopicRecord],
    employee_ids: Collection[str],
) -> Topics:
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
    return DeadLetter(
        employee_id=str(record.key),
        offset=record.offset,
        event_id=event_id if isinstance(event_id, str) else None,
        error_code=code.decode(errors="replace") if code is not None else None,
    )
