"""The read model through the real broker and database: statuses, versions, tombstones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_events import USERS_ENRICHED_TOPIC
from pymongo import AsyncMongoClient
from query_service.settings import Settings
from query_support import Publisher, enriched_user, wait_committed_past

pytestmark = pytest.mark.integration


async def status_of(api: httpx.AsyncClient, employee_id: str, wanted: str) -> dict[str, Any] | None:
    response = await api.get(f"/v1/users/{employee_id}/status")
    if response.status_code != 200:
        return None
    body: dict[str, Any] = response.json()
    return body if body["status"] == wanted else None


async def user_titled(
    api: httpx.AsyncClient, employee_id: str, title: str
) -> httpx.Response | None:
    response = await api.get(f"/v1/users/{employee_id}")
    ok = response.status_code == 200 and response.json()["title"] == title
    return response if ok else None


async def stored(settings: Settings, employee_id: str) -> list[dict[str, Any]]:
    url = settings.mongodb_url.get_secret_value()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        return await client.get_default_database()["users"].find({"_id": employee_id}).to_list()
    finally:
        await client.close()


async def test_a_completed_user_goes_from_pending_to_completed(
    api: httpx.AsyncClient, publish: Publisher, unique_name: str
) -> None:
    hr = await publish.hr(unique_name)
    pending = await eventually(lambda: status_of(api, unique_name, "pending"))
    assert pending["event_id"] == hr.event.id
    assert datetime.fromisoformat(pending["accepted_at"]) == hr.event.time
    assert (pending["completed_at"], pending["error"]) == (None, None)
    assert (await api.get(f"/v1/users/{unique_name}")).status_code == 404

    await publish.enriched(hr)
    done = await eventually(lambda: status_of(api, unique_name, "completed"))
    assert set(done) == {
        "id",
        "status",
        "event_id",
        "accepted_at",
        "completed_at",
        "error",
        "next_check_at",
    }
    assert done["next_check_at"] is None
    assert done["event_id"] == hr.event.id
    assert done["completed_at"] is not None
    assert done["error"] is None
    user = await api.get(f"/v1/users/{unique_name}")
    assert user.status_code == 200
    assert user.json() == enriched_user(unique_name).model_dump(mode="json")


async def test_a_delivery_written_twice_ends_completed_not_pending(
    api: httpx.AsyncClient, publish: Publisher, unique_name: str
) -> None:
    first = await publish.hr(unique_name)
    second = await publish.again(first)  # the retry of a timed-out write, written too
    assert second.offset > first.offset
    await publish.enriched(first)  # enrich handled the first copy, skipped the second
    done = await eventually(lambda: status_of(api, unique_name, "completed"))
    assert done["event_id"] == first.event.id


async def test_a_late_copy_of_an_older_event_does_not_make_it_the_newest(
    api: httpx.AsyncClient, publish: Publisher, unique_name: str
) -> None:
    """v2 re-delivered after v3 to an ingest replica that had not seen it yet is written
    again with a later time: the status still follows v3, which was enriched."""
    now = datetime.now(UTC)
    v2 = await publish.hr(unique_name, time=now)
    v3 = await publish.hr(unique_name, time=now + timedelta(seconds=1))
    await publish.hr(unique_name, time=now + timedelta(seconds=2), event_id=v2.event.id)
    await publish.enriched(v3)
    done = await eventually(lambda: status_of(api, unique_name, "completed"))
    assert done["event_id"] == v3.event.id


async def test_a_dead_lettered_user_is_failed_with_the_reason(
    api: httpx.AsyncClient, publish: Publisher, unique_name: str
) -> None:
    hr = await publish.hr(unique_name)
    await publish.dead_letter(hr, code="okta_user_not_found", message="no Okta user")
    failed = await eventually(lambda: status_of(api, unique_name, "failed"))
    assert failed["event_id"] == hr.event.id
    assert failed["error"] == "okta_user_not_found: no Okta user"
    assert failed["completed_at"] is not None
    assert (await api.get(f"/v1/users/{unique_name}")).status_code == 404

    redriven = await publish.replay(hr)  # a redrive: the same event at a new offset
    await eventually(lambda: status_of(api, unique_name, "pending"))
    await publish.enriched(redriven)
    await eventually(lambda: status_of(api, unique_name, "completed"))


async def test_an_older_event_replayed_after_a_newer_one_changes_nothing(
    api: httpx.AsyncClient,
    publish: Publisher,
    unique_name: str,
    kafka_bootstrap: str,
    settings: Settings,
) -> None:
    start = datetime.now(UTC)
    older = await publish.hr(unique_name, time=start)
    newer = await publish.hr(unique_name, time=start + timedelta(seconds=1))
    await publish.enriched(newer, title="Newer")
    await eventually(lambda: user_titled(api, unique_name, "Newer"))

    late = await publish.enriched(await publish.replay(older), title="Older")
    await wait_committed_past(kafka_bootstrap, settings.query_group_id, USERS_ENRICHED_TOPIC, late)
    assert (await api.get(f"/v1/users/{unique_name}")).json()["title"] == "Newer"
    status = await eventually(lambda: status_of(api, unique_name, "completed"))
    assert status["event_id"] == newer.event.id

    # A replay of the newest event does update: Okta's answer may have changed.
    await publish.enriched(await publish.replay(newer), title="Newer, replayed")
    await eventually(lambda: user_titled(api, unique_name, "Newer, replayed"))


async def test_the_same_event_delivered_twice_leaves_one_unchanged_document(
    api: httpx.AsyncClient,
    publish: Publisher,
    unique_name: str,
    kafka_bootstrap: str,
    settings: Settings,
) -> None:
    hr = await publish.hr(unique_name)
    await publish.enriched(hr)
    await eventually(lambda: user_titled(api, unique_name, "Software Engineer"))
    first = await stored(settings, unique_name)

    again = await publish.enriched(hr)
    await wait_committed_past(kafka_bootstrap, settings.query_group_id, USERS_ENRICHED_TOPIC, again)
    assert await stored(settings, unique_name) == first
    assert len(first) == 1


async def test_a_tombstone_removes_the_user(
    api: httpx.AsyncClient, publish: Publisher, unique_name: str
) -> None:
    await publish.enriched(await publish.hr(unique_name))
    await eventually(lambda: user_titled(api, unique_name, "Software Engineer"))
    await publish.raw_enriched(unique_name, None)

    async def gone() -> bool | None:
        response = await api.get(f"/v1/users/{unique_name}")
        return True if response.status_code == 404 else None

    await eventually(gone)
    assert (await api.get(f"/v1/users/{unique_name}")).json() == {"detail": "User not found"}


async def test_an_unchanged_user_answers_304_to_its_etag(
    api: httpx.AsyncClient, publish: Publisher, unique_name: str
) -> None:
    await publish.enriched(await publish.hr(unique_name))
    first = await eventually(lambda: user_titled(api, unique_name, "Software Engineer"))
    etag = first.headers["ETag"]

    cached = await api.get(f"/v1/users/{unique_name}", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["ETag"] == etag

    await publish.enriched(await publish.hr(unique_name), title="Staff Engineer")
    changed = await eventually(lambda: user_titled(api, unique_name, "Staff Engineer"))
    assert changed.headers["ETag"] != etag
    stale = await api.get(f"/v1/users/{unique_name}", headers={"If-None-Match": etag})
    assert stale.status_code == 200
