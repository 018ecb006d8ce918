"""When a person unknown to Okta is looked up again, and until when (`waiting.py`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from enrich_service.waiting import HrPlace, RetrySchedule
from enrich_support import hr_event
from onboarding_events import HrUserUpserted

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
HR = HrPlace("hr.users.v1", 2, 77)
SCHEDULE = RetrySchedule(
    delays_s=(10, 60, 600), not_found_retry_s=3 * 86400, prehire_grace_s=7 * 86400
)


def _starting(day: date | None) -> HrUserUpserted:
    return hr_event("e1", "e1@example.com", start=day)


def test_someone_without_a_start_date_waits_the_not_found_period_on_widening_tiers() -> None:
    event = _starting(None)
    first = SCHEDULE.first(event, HR, NOW)

    assert (first.tier, first.reason, first.topic) == (1, "pending", "hr.users.v1.retry.1")
    assert first.due_at == NOW + timedelta(seconds=10)
    assert first.wait_until == NOW + timedelta(days=3)
    assert (first.hr_partition, first.hr_offset) == (2, 77)

    later = [first]
    for minutes in (1, 2, 20, 40):
        step = SCHEDULE.next(event, later[-1], NOW + timedelta(minutes=minutes))
        assert step is not None
        later.append(step)
    assert [w.tier for w in later] == [1, 2, 3, 3, 3]  # the last tier repeats
    assert [w.lookups for w in later] == [1, 2, 3, 4, 5]
    assert later[-1].due_at == NOW + timedelta(minutes=40, seconds=600)
    assert {w.first_attempt_at for w in later} == {NOW}  # kept from tier to tier
    assert SCHEDULE.next(event, first, NOW + timedelta(days=3)) is None  # past its time


def test_a_future_hire_is_scheduled_until_the_start_date_plus_the_grace() -> None:
    start = NOW.date() + timedelta(days=40)
    event = _starting(start)
    first = SCHEDULE.first(event, HR, NOW)

    midnight = datetime.combine(start, datetime.min.time(), UTC)
    assert (first.reason, first.wait_until) == ("scheduled", midnight + timedelta(days=7))
    on_the_day = SCHEDULE.next(event, first, midnight + timedelta(hours=9))
    assert on_the_day is not None
    assert on_the_day.reason == "pending"  # started, still not in Okta
    # Starting today: pending, until the grace after today; long started: the period alone.
    today = SCHEDULE.first(_starting(NOW.date()), HR, NOW)
    assert (today.reason, today.wait_until) == ("pending", midnight - timedelta(days=33))
    long_ago = SCHEDULE.first(_starting(date(2020, 1, 1)), HR, NOW)
    assert (long_ago.reason, long_ago.wait_until) == ("pending", NOW + timedelta(days=3))


def test_a_hire_not_active_yet_waits_for_activation_only_until_the_start_date_plus_grace() -> None:
    start = NOW.date() + timedelta(days=2)
    waiting = SCHEDULE.activation(_starting(start), HR, NOW)

    assert waiting is not None
    assert waiting.reason == "activation"
    assert waiting.wait_until == datetime.combine(start, datetime.min.time(), UTC) + timedelta(
        days=7
    )
    step = SCHEDULE.next(_starting(start), waiting, NOW + timedelta(minutes=5))
    assert step is not None
    assert step.reason == "activation"
    assert SCHEDULE.activation(_starting(None), HR, NOW) is None
    assert SCHEDULE.activation(_starting(NOW.date() - timedelta(days=8)), HR, NOW) is None
