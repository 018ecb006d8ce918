"""Decoding and the supersede rule are total: whatever an HR record holds, `decode` raises
`PermanentError` (dead-lettered as `invalid_event`) and `supersedes` answers; and a second
record of an event stamped later is ordered by the first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from enrich_service.recent_events import RecentEvents
from enrich_service.records import decode
from enrich_support import hr_event
from handler_fakes import HrRecord
from onboarding_runtime.kafka import PermanentError
from onboarding_runtime.pii import Pseudonymizer

DEEP = b"[" * 50_000


def supersedes(newer: HrRecord, older: HrRecord, recent: RecentEvents | None = None) -> bool:
    rule = RecentEvents(100, Pseudonymizer(b"k")) if recent is None else recent
    return rule.supersedes(newer, older)


UNREADABLE = {
    "nested 50,000 deep": DEEP,
    "an object nested 50,000 deep": b'{"time":' * 50_000 + b"1" + b"}" * 50_000,
    "not JSON": b'{"email": "jane.doe@example.com", ',
    "not UTF-8": b'{"time": "\xff"}',
    "JSON, not an object": b'["2026-01-01T00:00:00+00:00"]',
    "time not text": b'{"time": 5}',
    "time an object": b'{"time": {"a": 1}}',
    "time not a time": b'{"time": "yesterday"}',
    "empty": b"",
}


@pytest.mark.parametrize("value", UNREADABLE.values(), ids=UNREADABLE)
def test_an_unreadable_record_is_an_invalid_event(value: bytes) -> None:
    with pytest.raises(PermanentError) as raised:
        decode(HrRecord(value))

    assert raised.value.code == "invalid_event"
    assert str(raised.value).startswith("invalid HR event")


@pytest.mark.parametrize("value", UNREADABLE.values(), ids=UNREADABLE)
def test_an_unreadable_record_supersedes_nothing_and_is_superseded_by_nothing(
    value: bytes,
) -> None:
    good = HrRecord(hr_event("e-1", "e1@example.com").to_json(), offset=1)
    bad = HrRecord(value, offset=2)

    assert not supersedes(bad, good)
    assert not supersedes(good, bad)


def test_a_later_event_still_supersedes_an_earlier_one() -> None:
    now = datetime.now(UTC)
    older = HrRecord(hr_event("e-1", "e1@example.com", at=now).to_json(), offset=1)
    newer = HrRecord(hr_event("e-1", "e1@example.com", at=now + timedelta(1)).to_json(), offset=2)

    assert supersedes(newer, older)
    assert not supersedes(older, newer)


def test_a_second_record_of_an_older_event_stamped_later_does_not_supersede_a_newer_one() -> None:
    """v2, v3, then v2 again: another ingest replica wrote the re-delivered v2 again, stamped
    after v3. Ordered by its own stamp it would supersede v3 and bring v2 back."""
    recent = RecentEvents(100, Pseudonymizer(b"k"))
    now = datetime.now(UTC)
    v2 = hr_event("e-1", "e1@example.com", title="v2", at=now)
    v3 = hr_event("e-1", "e1@example.com", title="v3", at=now + timedelta(milliseconds=20))
    v2_again = v2.model_copy(update={"time": now + timedelta(milliseconds=40)})
    first, newer, copy = (
        HrRecord(e.to_json(), offset=n) for n, e in enumerate((v2, v3, v2_again), start=1)
    )

    assert supersedes(newer, first, recent)
    assert not supersedes(copy, newer, recent)
    assert recent.first_time(v2_again) == v2.time


def test_a_second_record_of_the_same_event_waits_for_the_first() -> None:
    """If it took the first one's place, the first would count as finished (committed past)
    before its event was handled; a new owner starting after it would take the event as
    handled and skip the second record too: the employee's newest version never enriched."""
    now = datetime.now(UTC)
    event = hr_event("e-1", "e1@example.com", at=now)
    again = event.model_copy(update={"time": now + timedelta(milliseconds=40)})
    first, second = HrRecord(event.to_json(), offset=18), HrRecord(again.to_json(), offset=22)

    assert not supersedes(second, first)
