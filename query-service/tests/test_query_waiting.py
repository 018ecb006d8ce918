"""A record waiting on a retry tier, through the real broker and database: the status says
`scheduled` and when the person is looked up again, follows the record from tier to tier,
and gives way to the event's completion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_events import Waiting
from query_support import Publisher

pytestmark = pytest.mark.integration


def next_check(waiting: Waiting) -> str:
    """`next_check_at` as the API writes it for `waiting` (its header holds milliseconds)."""
    due_at = datetime.fromtimestamp(int(waiting.due_at.timestamp() * 1000) / 1000, UTC)
    return due_at.isoformat().replace("+00:00", "Z")


async def status_where(
    api: httpx.AsyncClient, employee_id: str, **wanted: object
) -> dict[str, Any] | None:
    """The status once it holds every `wanted` key and value; None ("not yet") before."""
    response = await api.get(f"/v1/users/{employee_id}/status")
    if response.status_code != 200:
        return None
    body: dict[str, Any] = response.json()
    return body if all(body.get(key) == value for key, value in wanted.items()) else None


async def test_a_future_hire_is_scheduled_tier_by_tier_then_completed(
    api: httpx.AsyncClient, publish: Publisher, unique_name: str
) -> None:
    hr = await publish.hr(unique_name)
    pending = await eventually(lambda: status_where(api, unique_name, status="pending"))
    assert pending["next_check_at"] is None  # accepted, not waiting on a tier yet

    now = datetime.now(UTC)
    first = await publish.waiting(hr, tier=1, due_at=now + timedelta(hours=1), reason="scheduled")
    scheduled = await eventually(
        lambda: status_where(api, unique_name, status="scheduled", next_check_at=next_check(first))
    )
    assert scheduled["event_id"] == hr.event.id
    assert datetime.fromisoformat(scheduled["accepted_at"]) == hr.event.time
    assert (scheduled["completed_at"], scheduled["error"]) == (None, None)

    # Came due, still not in Okta: written to the next tier, looked up again later.
    second = await publish.waiting(hr, tier=2, due_at=now + timedelta(days=1), reason="scheduled")
    moved = await eventually(
        lambda: status_where(api, unique_name, status="scheduled", next_check_at=next_check(second))
    )
    assert moved["event_id"] == hr.event.id

    await publish.enriched(hr)
    done = await eventually(lambda: status_where(api, unique_name, status="completed"))
    assert (done["event_id"], done["next_check_at"]) == (hr.event.id, None)
    assert set(done) == {
        "id",
        "status",
        "event_id",
        "accepted_at",
        "completed_at",
        "error",
        "next_check_at",
    }
