"""`erase` removes the person from the view and status view, sends a tombstone, and
remembers the erasure under a pseudonym so later replays skip them."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from onboarding_ops.bootstrap import Ops, open_view
from onboarding_ops.erase import ERASED_AT_HEADER
from onboarding_runtime.pii import Pseudonymizer
from onboarding_runtime.view import Put, VersionedWriter, version_of
from onboarding_runtime.view.status import ACCEPTED, WAITING
from onboarding_runtime.view.versions import waiting_version
from opskit import TEST_PII_KEY, OpsDriver, hr_event

pytestmark = pytest.mark.integration


async def _in_view(ops: Ops, employee_id: str) -> None:
    version = version_of(datetime.now(UTC), 3)
    async with open_view(ops) as view:
        users = VersionedWriter(view.db, await view.pointer.name())
        await users.put_if_newer(Put(employee_id, version, {"body": "{}", "etag": '"x"'}))
        status = VersionedWriter(view.db, ACCEPTED)
        await status.put_if_newer(Put(employee_id, version, {"event_id": "e"}))


async def _known(ops: Ops, employee_id: str) -> bool:
    async with open_view(ops) as view:
        return await view.knows(employee_id)


async def test_erase_removes_the_person_everywhere_and_remembers_it(driver: OpsDriver) -> None:
    ops = driver.ops
    await _in_view(ops, "emp-21")

    result = await driver.invoke("erase", "emp-21")

    assert result.exit_code == 0, result.output
    assert not await _known(ops, "emp-21")
    [tombstone] = await driver.read(ops.topics.enriched)
    assert (tombstone.key, tombstone.value) == ("emp-21", None)
    assert datetime.fromisoformat(tombstone.headers[ERASED_AT_HEADER]) <= datetime.now(UTC)
    [erasure] = await driver.read(ops.topics.erasures)
    assert erasure.key == Pseudonymizer(TEST_PII_KEY.encode())("emp-21")
    assert erasure.value is not None
    assert b"emp-21" not in erasure.value
    assert set(json.loads(erasure.value)) == {"erased_at"}


async def test_erase_removes_a_person_known_only_as_waiting_on_a_retry_tier(
    driver: OpsDriver,
) -> None:
    """Their HR record is on a retry tier and nothing else of theirs is projected yet."""
    now = datetime.now(UTC)
    async with open_view(driver.ops) as view:
        tier = VersionedWriter(view.db, WAITING[2])
        fields = {"event_id": "e", "waiting": "scheduled", "next_check_at": now}
        await tier.put_if_newer(Put("emp-27", waiting_version(now, 3, now), fields))
    assert await _known(driver.ops, "emp-27")

    result = await driver.invoke("erase", "emp-27")

    assert result.exit_code == 0, result.output
    assert not await _known(driver.ops, "emp-27")


async def test_the_tombstone_waits_out_enrichs_publish_fence_after_the_erasure(
    driver: OpsDriver,
) -> None:
    """A publish that missed the erasure lands within KAFKA_PUBLISH_TIMEOUT_S: the tombstone
    is written after that, so no pre-erasure state follows it on the enriched topic."""
    seen_at_fence: list[tuple[int, int]] = []

    async def fence(seconds: float) -> None:
        erasures = await driver.read(driver.topics.erasures)
        enriched = await driver.read(driver.topics.enriched)
        seen_at_fence.append((len(erasures), len(enriched)))
        assert seconds == driver.settings.kafka_publish_timeout_s + 1.0

    fenced = OpsDriver(dataclasses.replace(driver.ops, sleep=fence))
    await _in_view(fenced.ops, "emp-25")

    result = await fenced.invoke("erase", "emp-25")

    assert result.exit_code == 0, result.output
    assert seen_at_fence == [(1, 0)]  # the erasure is written, the tombstone not yet
    [tombstone] = await driver.read(driver.topics.enriched)
    assert tombstone.value is None


async def test_erase_of_an_unknown_employee_exits_2_and_changes_nothing(
    driver: OpsDriver,
) -> None:
    result = await driver.invoke("erase", "never-seen")

    assert result.exit_code == 2
    assert "unknown employee never-seen" in result.output
    assert await driver.read(driver.topics.enriched) == []
    assert await driver.read(driver.topics.erasures) == []


async def test_erase_twice_is_harmless(driver: OpsDriver) -> None:
    await _in_view(driver.ops, "emp-22")
    await driver.invoke("erase", "emp-22")

    again = await driver.invoke("erase", "emp-22")

    assert again.exit_code == 0, again.output
    assert "(again; first erased" in again.output


async def test_a_replay_after_erase_skips_the_erased_employee(driver: OpsDriver) -> None:
    hr = driver.topics.hr
    await driver.publish(hr, "emp-23", hr_event("emp-23").to_json())
    await driver.publish(hr, "emp-24", hr_event("emp-24").to_json())
    await _in_view(driver.ops, "emp-23")
    await driver.invoke("erase", "emp-23")

    result = await driver.invoke("replay", "--since", "earliest")

    assert result.exit_code == 0, result.output
    assert "1 HR events republished of 2 read" in result.output
    keys = [r.key for r in await driver.read(hr)]
    assert sorted(keys) == ["emp-23", "emp-24", "emp-24"]
