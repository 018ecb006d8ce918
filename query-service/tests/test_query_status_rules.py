"""How the status is decided from the three sources, and version order (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from onboarding_runtime.view import merge, time_of, version_of
from pydantic import ValidationError
from query_service.routes import etag_matches
from query_support import make_settings

T0 = datetime(2024, 1, 10, 9, 30, tzinfo=UTC)
V1 = version_of(T0, 7)
V1_REPLAYED = version_of(T0, 900)  # the same event, republished later
V2 = version_of(T0 + timedelta(seconds=1), 8)
DONE = datetime(2024, 1, 10, 9, 31, tzinfo=UTC)


def test_versions_order_by_time_then_hr_offset() -> None:
    assert V1 < V1_REPLAYED < V2
    assert version_of(T0 + timedelta(microseconds=1), 0) > version_of(T0, 10**12)
    assert time_of(V2) == T0 + timedelta(seconds=1)


def test_never_seen_is_none() -> None:
    assert merge("1", None, None, None) is None


def test_accepted_only_is_pending() -> None:
    status = merge("1", {"version": V1, "event_id": "e1"}, None, None)
    assert status == {
        "id": "1",
        "status": "pending",
        "event_id": "e1",
        "accepted_at": "2024-01-10T09:30:00Z",
        "completed_at": None,
        "error": None,
        "next_check_at": None,
    }


def test_completion_of_the_newest_event_is_completed() -> None:
    completed = {"version": V1, "event_id": "e1", "completed_at": DONE}
    status = merge("1", {"version": V1, "event_id": "e1"}, None, completed)
    assert status is not None
    assert (status["status"], status["completed_at"]) == ("completed", "2024-01-10T09:31:00Z")


def test_a_newer_accepted_event_makes_it_pending_again() -> None:
    completed = {"version": V1, "event_id": "e1", "completed_at": DONE}
    status = merge("1", {"version": V2, "event_id": "e2"}, None, completed)
    assert status is not None
    assert (status["status"], status["event_id"]) == ("pending", "e2")


def test_failure_of_the_newest_event_is_failed_with_the_reason() -> None:
    failed = {"version": V2, "event_id": "e2", "failed_at": DONE, "error": "okta: down"}
    completed = {"version": V1, "event_id": "e1", "completed_at": DONE}
    status = merge("1", {"version": V2, "event_id": "e2"}, failed, completed)
    assert status is not None
    assert (status["status"], status["error"]) == ("failed", "okta: down")


def test_a_redrive_after_a_failure_is_pending_then_completed() -> None:
    failed = {"version": V1, "event_id": "e1", "failed_at": DONE, "error": "x"}
    redriven = {"version": V1_REPLAYED, "event_id": "e1", "resent": True}
    assert merge("1", redriven, failed, None)["status"] == "pending"  # type: ignore[index]
    completed = {"version": V1_REPLAYED, "event_id": "e1", "completed_at": DONE}
    assert merge("1", redriven, failed, completed)["status"] == "completed"  # type: ignore[index]


def test_a_delivery_written_twice_takes_the_outcome_of_the_copy_enrich_handled() -> None:
    """The first write timed out (503), the retry was written again; enrich handled the first
    copy and skipped the second: the status is that outcome, never `pending` for good."""
    second_copy = {"version": V1_REPLAYED, "event_id": "e1"}
    completed = {"version": V1, "event_id": "e1", "completed_at": DONE}
    status = merge("1", second_copy, None, completed)
    assert status is not None
    assert (status["status"], status["completed_at"]) == ("completed", "2024-01-10T09:31:00Z")
    failed = {"version": V1, "event_id": "e1", "failed_at": DONE, "error": "okta: no user"}
    assert merge("1", second_copy, failed, None)["status"] == "failed"  # type: ignore[index]
    # Not the same event, or sent again on purpose: pending until it is handled.
    other = {"version": V2, "event_id": "e2"}
    assert merge("1", other, None, completed)["status"] == "pending"  # type: ignore[index]
    replayed = {**second_copy, "resent": True}
    assert merge("1", replayed, None, completed)["status"] == "pending"  # type: ignore[index]


def test_if_none_match_uses_weak_comparison() -> None:
    assert etag_matches('"abc"', '"abc"')
    assert etag_matches('W/"abc", "def"', '"abc"')
    assert etag_matches("*", '"abc"')
    assert not etag_matches('"abd"', '"abc"')
    assert not etag_matches(None, '"abc"')


@pytest.mark.parametrize("key", [None, ""])
def test_production_refuses_to_start_without_a_read_key(key: str | None) -> None:
    with pytest.raises(ValidationError, match="READ_API_KEY"):
        make_settings(environment="production", pii_hash_key="k" * 32, read_api_key=key)


def test_a_failed_copy_stamped_later_does_not_outrank_the_events_completion() -> None:
    """Ingest wrote a delivery twice, the second record stamped 25 ms later; both failed
    (not in Okta yet) and the redrive of the first completed: the person is completed."""
    copy_failed = {
        "version": version_of(T0 + timedelta(milliseconds=25), 9),
        "event_id": "e1",
        "failed_at": DONE,
        "error": "no Okta user with this email yet",
    }
    redriven = {"version": V1_REPLAYED, "event_id": "e1", "resent": True}
    completed = {"version": V1_REPLAYED, "event_id": "e1", "completed_at": DONE}

    status = merge("1", redriven, copy_failed, completed)

    assert status is not None
    assert (status["status"], status["error"]) == ("completed", None)
