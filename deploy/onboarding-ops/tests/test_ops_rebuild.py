"""`rebuild-view` rebuilds the users view from the enriched topic alone and switches to it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from onboarding_ops.bootstrap import open_view
from onboarding_runtime.view import Put, UsersView, VersionedWriter, version_of
from opskit import OpsDriver, enriched_event

pytestmark = pytest.mark.integration


async def test_rebuild_gives_the_newest_state_of_everyone_and_drops_the_old_collection(
    driver: OpsDriver,
) -> None:
    ops, topic = driver.ops, driver.topics.enriched
    t0 = datetime.now(UTC) - timedelta(hours=1)
    for n in range(30):
        event = enriched_event(f"emp-{n}", time=t0, hr_offset=n)
        await driver.publish(topic, event.subject, event.to_json())
    newer = enriched_event("emp-1", time=t0 + timedelta(minutes=5), hr_offset=40, groups=["New"])
    older = enriched_event("emp-1", time=t0 - timedelta(minutes=5), hr_offset=41, groups=["Old"])
    await driver.publish(topic, "emp-1", newer.to_json())
    await driver.publish(topic, "emp-1", older.to_json())  # a late, older event loses
    await driver.publish(topic, "emp-2", None)  # erased by a tombstone
    async with open_view(ops) as view:
        previous = await view.pointer.name()
        stale = VersionedWriter(view.db, previous)
        await stale.put_if_newer(Put("ghost", version_of(t0, 0), {"body": "{}"}))

    result = await driver.invoke("rebuild-view")

    assert result.exit_code == 0, result.output
    assert "(29 users from 33 records" in result.output
    async with open_view(ops) as view:
        live = await view.pointer.name()
        users = UsersView(view.db, pointer=view.pointer)
        emp1 = await users.get("emp-1")
        assert live != previous
        assert previous not in await view.db.list_collection_names()
        assert emp1 is not None
        assert json.loads(emp1.body)["groups"] == ["New"]
        assert await users.get("emp-2") is None
        assert await users.get("ghost") is None  # only the topic counts
        assert await users.get("emp-29") is not None


async def test_rebuild_leaves_out_erased_employees(driver: OpsDriver) -> None:
    topic = driver.topics.enriched
    for employee_id in ("emp-31", "emp-32"):
        event = enriched_event(employee_id, time=datetime.now(UTC), hr_offset=1)
        await driver.publish(topic, employee_id, event.to_json())
    await driver.invoke("erase", "emp-31", "--force")
    # As if compaction had not run yet and the tombstone were gone: the erasure log decides.
    late = enriched_event("emp-31", time=datetime.now(UTC) - timedelta(minutes=1), hr_offset=2)
    await driver.publish(topic, "emp-31", late.to_json())

    result = await driver.invoke("rebuild-view")

    assert result.exit_code == 0, result.output
    assert "2 erased skipped" in result.output
    async with open_view(driver.ops) as view:
        users = UsersView(view.db, pointer=view.pointer)
        assert await users.get("emp-31") is None
        assert await users.get("emp-32") is not None


async def test_rebuild_of_an_empty_topic_switches_to_an_empty_view(driver: OpsDriver) -> None:
    result = await driver.invoke("rebuild-view")

    assert result.exit_code == 0, result.output
    assert "(0 users from 0 records" in result.output
