"""Records waiting on a retry tier, decoded for the status view: the HR event, why it waits
and until when, versioned so the next tier's record of the same HR record replaces it. Bad
retry-tier headers are skipped and counted, never guessed at, and never stall a slice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from onboarding_events import (
    HR_USER_UPSERTED,
    HR_USERS_TOPIC,
    RETRY_TOPICS,
    HrUser,
    HrUserUpserted,
    Waiting,
)
from onboarding_events.waiting import DUE_AT, HR_SOURCE, TIER, WAITING
from onboarding_runtime.kafka import RecordCopy
from onboarding_runtime.view import Put, time_of, version_of
from onboarding_runtime.view.records import slice_of, waiting_change
from onboarding_runtime.view.versions import hr_version, waiting_version
from prometheus_client import REGISTRY

TOPIC = RETRY_TOPICS[1]  # tier 2
TIME = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
DUE = datetime(2026, 3, 1, 9, 31, 10, 250_000, tzinfo=UTC)


def fake_record(
    topic: str,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]] = (),
) -> RecordCopy:
    return RecordCopy(topic, 3, offset, 1_772_357_500_000, key, value, headers)


def hr_json(employee_id: str) -> bytes:
    return HrUserUpserted(
        id=f"hr-{employee_id}",
        source="urn:test",
        type=HR_USER_UPSERTED,
        subject=employee_id,
        time=TIME,
        data=HrUser(employee_id=employee_id, first_name="Jane", last_name="Doe", email="j@x.io"),
    ).to_json()


# A pre-hire's HR record (offset 41 on `hr.users.v1`) on tier 2, due at DUE.
WAITING_ON_TIER_2 = Waiting(
    tier=2,
    due_at=DUE,
    first_attempt_at=TIME,
    wait_until=TIME + timedelta(days=30),
    hr_topic=HR_USERS_TOPIC,
    hr_partition=3,
    hr_offset=41,
    reason="scheduled",
)


def headers(**changed: bytes) -> list[tuple[str, bytes]]:
    """The tier-2 record's headers as enrich writes them, with some changed."""
    found = dict(WAITING_ON_TIER_2.headers())
    found.update(changed)
    return [("content-type", b"application/cloudevents+json"), *found.items()]


def on_tier(offset: int, key: bytes, record_headers: Sequence[tuple[str, bytes]]) -> RecordCopy:
    return fake_record(TOPIC, offset, key, hr_json(key.decode()), record_headers)


def skipped(reason: str) -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "onboarding_records_skipped"
        for sample in metric.samples
        if sample.name.endswith("_total")
        and sample.labels["consumer"] == "view"
        and sample.labels["topic"] == TOPIC
        and sample.labels["reason"] == reason
    )


def test_a_waiting_record_says_why_and_until_when_under_its_hr_records_version() -> None:
    [change] = slice_of([on_tier(7, b"e-1", headers())], waiting_change).changes

    assert change == Put(
        "e-1",
        waiting_version(TIME, 41, DUE),
        {
            "event_id": "hr-e-1",
            "accepted_at": TIME,
            "waiting": "scheduled",
            "next_check_at": DUE,
            "tier": 2,
        },
    )
    assert hr_version(change.version) == version_of(TIME, 41)  # the HR record's, not ours (7)


def test_the_next_tiers_record_is_newer_and_a_newer_hr_event_newer_still() -> None:
    first = waiting_version(TIME, 41, DUE)
    next_tier = waiting_version(TIME, 41, DUE + timedelta(minutes=1))
    newer_event = version_of(TIME + timedelta(microseconds=1), 0)
    replayed = version_of(TIME, 42)  # the same event at a later offset

    assert version_of(TIME, 41) < first < next_tier < replayed < newer_event
    assert time_of(next_tier) == TIME  # what the erasure filter compares


NOT_OURS = {
    "unknown reason": (headers(**{WAITING: b"someday"}), "bad_header"),
    "tier past the last": (headers(**{TIER: b"6"}), "bad_header"),
    "tier not a number": (headers(**{TIER: b"two"}), "bad_header"),
    "due time not a number": (headers(**{DUE_AT: b"tomorrow"}), "bad_header"),
    "due time out of range": (headers(**{DUE_AT: b"9" * 30}), "bad_header"),
    "HR offset not a number": (headers(**{HR_SOURCE: b"hr.users.v1/3/x"}), "bad_header"),
    "HR source without offset": (headers(**{HR_SOURCE: b"hr.users.v1"}), "bad_header"),
    "HR source not UTF-8": (headers(**{HR_SOURCE: b"hr.users.v1/3/\xff"}), "bad_header"),
    "a header missing": ([h for h in headers() if h[0] != HR_SOURCE], "bad_header"),
    "no retry-tier headers": ([("content-type", b"application/cloudevents+json")], "bad_header"),
}


@pytest.mark.parametrize(("bad_headers", "reason"), NOT_OURS.values(), ids=NOT_OURS)
def test_a_waiting_record_with_bad_headers_is_skipped_and_its_neighbours_kept(
    bad_headers: list[tuple[str, bytes]], reason: str
) -> None:
    before = skipped(reason)
    records = [
        on_tier(10, b"before", headers()),
        on_tier(11, b"bad", bad_headers),
        on_tier(12, b"after", headers()),
    ]

    part = slice_of(records, waiting_change)

    assert [c.employee_id for c in part.changes] == ["before", "after"]
    assert (part.first_offset, part.next_offset) == (10, 13)  # committed past the bad one
    assert skipped(reason) == before + 1


def test_a_waiting_record_whose_value_is_not_an_hr_event_is_skipped() -> None:
    before = skipped("invalid_json")
    bad = fake_record(TOPIC, 11, b"bad", b"not json", headers())

    assert slice_of([bad], waiting_change).changes == []
    assert skipped("invalid_json") == before + 1
