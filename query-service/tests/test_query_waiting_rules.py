"""How a record waiting on a retry tier shows in the status (no I/O): `scheduled` or
`pending` with `next_check_at`, only for the newest HR record and only while it is pending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from onboarding_runtime.view import merge, version_of
from onboarding_runtime.view.versions import waiting_version

T0 = datetime(2024, 1, 10, 9, 30, tzinfo=UTC)
V1 = version_of(T0, 7)
V1_REDRIVEN = version_of(T0, 900)  # the same event, sent again later
V2 = version_of(T0 + timedelta(seconds=1), 8)
DUE = datetime(2024, 1, 11, 9, 30, 10, 250_000, tzinfo=UTC)
DONE = datetime(2024, 1, 10, 9, 31, tzinfo=UTC)

ACCEPTED = {"version": V1, "event_id": "e1"}


def waiting_on(
    version_time: datetime, hr_offset: int, *, reason: str = "scheduled", due_at: datetime = DUE
) -> dict[str, Any]:
    """The waiting document of the HR record at `hr_offset`, as the projector stores it."""
    return {
        "version": waiting_version(version_time, hr_offset, due_at),
        "event_id": "e1",
        "accepted_at": version_time,
        "waiting": reason,
        "next_check_at": due_at,
        "tier": 1,
    }


def status_of(
    accepted: dict[str, Any] | None = None,
    failed: dict[str, Any] | None = None,
    completed: dict[str, Any] | None = None,
    waiting: dict[str, Any] | None = None,
) -> dict[str, Any]:
    found = merge("1", accepted, failed, completed, waiting=waiting)
    assert found is not None
    return found


def test_a_future_hire_waiting_on_a_tier_is_scheduled_until_the_next_check() -> None:
    assert status_of(ACCEPTED, waiting=waiting_on(T0, 7)) == {
        "id": "1",
        "status": "scheduled",
        "event_id": "e1",
        "accepted_at": "2024-01-10T09:30:00Z",
        "completed_at": None,
        "error": None,
        "next_check_at": "2024-01-11T09:30:10.250000Z",
    }


def test_a_person_not_in_okta_yet_is_pending_with_the_next_check() -> None:
    status = status_of(ACCEPTED, waiting=waiting_on(T0, 7, reason="pending"))
    assert (status["status"], status["next_check_at"]) == ("pending", "2024-01-11T09:30:10.250000Z")


def test_a_waiting_record_seen_before_its_hr_record_already_shows() -> None:
    """The two are on different topics: the retry tier's may be projected first."""
    status = status_of(waiting=waiting_on(T0, 7))
    assert (status["status"], status["event_id"]) == ("scheduled", "e1")


def test_completion_or_failure_of_the_same_record_wins_over_its_wait() -> None:
    completed = {"version": V1, "event_id": "e1", "completed_at": DONE}
    failed = {"version": V1, "event_id": "e1", "failed_at": DONE, "error": "okta: not found"}

    done = status_of(ACCEPTED, completed=completed, waiting=waiting_on(T0, 7))
    dead = status_of(ACCEPTED, failed=failed, waiting=waiting_on(T0, 7))

    assert (done["status"], done["next_check_at"]) == ("completed", None)
    assert (dead["status"], dead["error"], dead["next_check_at"]) == (
        "failed",
        "okta: not found",
        None,
    )


def test_a_newer_hr_event_is_plain_pending_until_it_waits_itself() -> None:
    newer = {"version": V2, "event_id": "e2"}

    status = status_of(newer, waiting=waiting_on(T0, 7))

    assert (status["status"], status["event_id"], status["next_check_at"]) == (
        "pending",
        "e2",
        None,
    )


def test_a_redrive_waits_on_its_own_record_not_the_dead_letters() -> None:
    failed = {"version": V1, "event_id": "e1", "failed_at": DONE, "error": "x"}
    redriven = {"version": V1_REDRIVEN, "event_id": "e1", "resent": True}

    before_it_waits = status_of(redriven, failed, waiting=waiting_on(T0, 7))
    waiting = status_of(redriven, failed, waiting=waiting_on(T0, 900, reason="pending"))

    assert (before_it_waits["status"], before_it_waits["next_check_at"]) == ("pending", None)
    assert (waiting["status"], waiting["next_check_at"]) == (
        "pending",
        "2024-01-11T09:30:10.250000Z",
    )


def test_a_second_record_of_a_completed_event_that_waited_too_does_not_keep_it_pending() -> None:
    # Two records of one delivery both waited; the first was enriched, the copy skipped.
    completed = {"version": V1, "event_id": "e1", "completed_at": DONE}
    copy_waited = waiting_on(T0, 9, reason="pending")

    status = status_of(ACCEPTED, completed=completed, waiting=copy_waited)

    assert (status["status"], status["next_check_at"]) == ("completed", None)
