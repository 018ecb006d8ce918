"""In-memory doubles for the ledger run's unit tests: a clock, the sources, a clean world.

`clean_world(plan)` is what a flawless system leaves behind for a plan: a ledger with every
version accepted (and the planned redeliveries answered with the same event id), the HR
records, the enriched records, the dead letters of the people Okta never knows, the views
and statuses, and for erased employees a tombstone and 404s. Tests break one thing in it
and expect the checker to name it. `to_tier` puts an HR record on a retry tier, as
enrich-service does while a person is not in Okta yet; `write_back` writes a tier record
come due back to `hr.users.v1`, `activation_replay` writes an HR record again once its
person's account is active, and `waiting_status` is the status of a waiting person.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from onboarding_events import (
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    REPLAY_HEADER,
    USERS_ENRICHED_TOPIC,
    Waiting,
)
from onboarding_events.waiting import Reason, without_waiting

from tests.chaos.ledger import Attempt, Delivery, Ledger
from tests.chaos.plan import Employee, Plan, Version
from tests.chaos.sources import HttpAnswer, JsonObject, TopicRecord

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PARTITIONS = 6
NOT_FOUND = HttpAnswer(404, {"detail": "User not found"})


class FakeClock:
    """Time that moves only when slept: `sleep` advances it and lets other tasks run."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start
        self._monotonic = 0.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._monotonic += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


@dataclass
class FakeSources:
    topics: dict[str, list[TopicRecord]] = field(default_factory=dict)
    users: dict[str, HttpAnswer] = field(default_factory=dict)
    statuses: dict[str, HttpAnswer] = field(default_factory=dict)

    async def records(self, topic: str) -> Sequence[TopicRecord]:
        return list(self.topics.get(topic, []))

    async def user(self, employee_id: str) -> HttpAnswer:
        return self.users.get(employee_id, NOT_FOUND)

    async def status(self, employee_id: str) -> HttpAnswer:
        return self.statuses.get(employee_id, NOT_FOUND)

    def append(self, topic: str, key: str, value: JsonObject | None, **headers: str) -> TopicRecord:
        """A record at the end of `key`'s partition (headers: `_` in names becomes `-`)."""
        return self.write(
            topic,
            key,
            None if value is None else json.dumps(value).encode(),
            tuple((k.replace("_", "-"), v.encode()) for k, v in headers.items()),
        )

    def write(
        self, topic: str, key: str, value: bytes | None, headers: tuple[tuple[str, bytes], ...]
    ) -> TopicRecord:
        """A record as given, at the end of `key`'s partition."""
        partition = partition_of(key)
        offset = sum(1 for r in self.topics.get(topic, []) if r.partition == partition)
        record = TopicRecord(topic, partition, offset, key, value, headers)
        self.topics.setdefault(topic, []).append(record)
        return record


def partition_of(key: str) -> int:
    return sum(key.encode()) % PARTITIONS


def hr_value(employee: Employee, version: Version, event_id: str, time: datetime) -> JsonObject:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "urn:onboarding:ingest-service",
        "type": "hr.user.upserted",
        "time": time.isoformat().replace("+00:00", "Z"),
        "subject": employee.employee_id,
        "datacontenttype": "application/json",
        "data": dict(version.body),
    }


def view_of(employee: Employee, version: Version) -> JsonObject:
    return {
        "id": employee.employee_id,
        "name": "Ledger Person",
        "email": employee.email,
        "title": version.title,
        "department": "Chaos",
        "startDate": "2025-01-15",
        "groups": ["Everyone"],
        "applications": [],
        "onboarded": True,
    }


def enriched_value(hr: TopicRecord, view: JsonObject) -> JsonObject:
    source = json.loads(hr.value or b"{}")
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "urn:onboarding:enrich-service",
        "type": "user.enriched",
        "time": source["time"],
        "subject": hr.key,
        "datacontenttype": "application/json",
        "hreventid": source["id"],
        "hroffset": str(hr.offset),
        "data": view,
    }


def to_tier(
    sources: FakeSources,
    hr: TopicRecord,
    tier: int,
    *,
    reason: Reason = "pending",
    wait_until: datetime = T0 + timedelta(days=1),
) -> TopicRecord:
    """The HR record `hr` written again to retry tier `tier` (due `tier` hours after T0,
    at its `tier`-th lookup): key, value and headers unchanged, plus the tier's
    (`onboarding_events.waiting`)."""
    due_at = T0 + timedelta(hours=tier)
    waiting = Waiting(
        tier, due_at, T0, wait_until, HR_USERS_TOPIC, hr.partition, hr.offset, reason, tier
    )
    assert hr.key is not None
    return sources.write(waiting.topic, hr.key, hr.value, (*hr.headers, *waiting.headers()))


def write_back(sources: FakeSources, tier_record: TopicRecord) -> TopicRecord:
    """A retry-tier record come due, written back to `hr.users.v1` for the main consumer:
    key, value and headers (the tier's too) unchanged."""
    assert tier_record.key is not None
    return sources.write(HR_USERS_TOPIC, tier_record.key, tier_record.value, tier_record.headers)


def activation_replay(sources: FakeSources, hr: TopicRecord) -> TopicRecord:
    """The HR record `hr` written to `hr.users.v1` again once its person's Okta account is
    active: marked `onboarding-replay: activation`, without tier headers."""
    assert hr.key is not None
    kept = [(k, v) for k, v in without_waiting(hr.headers) if k != REPLAY_HEADER]
    return sources.write(HR_USERS_TOPIC, hr.key, hr.value, (*kept, (REPLAY_HEADER, b"activation")))


def waiting_status(sources: FakeSources, tier_record: TopicRecord) -> None:
    """The status of the person of `tier_record` while it waits: `pending` or `scheduled`,
    looked up again at its due time."""
    waiting = Waiting.of(tier_record.headers)
    assert waiting is not None
    assert tier_record.key is not None
    event_id = json.loads(tier_record.value or b"{}")["id"]
    state = "scheduled" if waiting.reason == "scheduled" else "pending"
    status = _status(tier_record.key, state, event_id).body or {}
    sources.statuses[tier_record.key] = HttpAnswer(
        200, {**status, "completed_at": None, "next_check_at": waiting.due_at.isoformat()}
    )


@dataclass
class World:
    plan: Plan
    ledger: Ledger
    sources: FakeSources
    hr: dict[tuple[str, int], TopicRecord]  # (employee id, version) -> its HR record
    event_ids: dict[tuple[str, int], str]


def clean_world(plan: Plan, *, erased: Mapping[str, datetime] | None = None) -> World:
    """`erased`: employees erased (after all their versions) at these times."""
    erased = erased or {}
    ledger, sources = Ledger(), FakeSources()
    world = World(plan, ledger, sources, {}, {})
    clock = T0
    for employee in plan:
        who = employee.employee_id
        for version in employee.versions:
            clock += timedelta(milliseconds=10)
            event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, version.delivery_id))
            world.event_ids[who, version.number] = event_id
            copies = 2 if version.redelivery else 1
            for copy in range(copies):
                _accept(ledger, employee, version, copy, event_id, clock)
            hr = sources.append(
                HR_USERS_TOPIC,
                who,
                hr_value(employee, version, event_id, clock),
                delivery_id=version.delivery_id,
            )
            world.hr[who, version.number] = hr
            if employee.okta != "never":
                sources.append(
                    USERS_ENRICHED_TOPIC, who, enriched_value(hr, view_of(employee, version))
                )
        newest = employee.newest
        newest_event = world.event_ids[who, newest.number]
        if employee.okta == "never":
            failed = world.hr[who, newest.number]
            sources.append(
                HR_USERS_DLQ_TOPIC,
                who,
                hr_value(employee, newest, newest_event, clock),
                dlq_error_code="okta_user_not_found",
                dlq_source=f"{HR_USERS_TOPIC}/{failed.partition}/{failed.offset}",
            )
            sources.statuses[who] = _status(who, "failed", newest_event)
        else:
            sources.users[who] = HttpAnswer(200, view_of(employee, newest))
            sources.statuses[who] = _status(who, "completed", newest_event)
        if who in erased:
            sources.append(USERS_ENRICHED_TOPIC, who, None)
            sources.users.pop(who, None)
            sources.statuses.pop(who, None)
    return world


def _accept(
    ledger: Ledger, employee: Employee, version: Version, copy: int, event_id: str, at: datetime
) -> None:
    ledger.record_attempt(
        Attempt(
            version.delivery_id,
            employee.employee_id,
            version.number,
            copy,
            1,
            "http://ingest-a",
            202,
            None,
            event_id,
            None,
            at,
            at,
        )
    )
    ledger.record_delivery(
        Delivery(
            version.delivery_id,
            employee.employee_id,
            version.number,
            copy,
            "accepted",
            event_id,
            1,
            at,
            at,
        )
    )


def _status(employee_id: str, state: str, event_id: str) -> HttpAnswer:
    return HttpAnswer(
        200,
        {
            "id": employee_id,
            "status": state,
            "event_id": event_id,
            "accepted_at": T0.isoformat(),
            "completed_at": T0.isoformat(),
            "error": "okta_user_not_found: no Okta user" if state == "failed" else None,
            "next_check_at": None,
        },
    )
