"""`replay --since` republishes exactly the HR events since then, marked, values unchanged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from onboarding_events import kafka_headers
from onboarding_ops.markers import REDRIVE_HEADER, REPLAY_HEADER
from opskit import OpsDriver, hr_event, wait_past

pytestmark = pytest.mark.integration


def _replay_id(output: str) -> str:
    match = re.search(r"replay ([0-9a-f]{12}):", output)
    assert match, output
    return match.group(1)


async def test_replay_since_a_time_republishes_exactly_the_events_since_then(
    driver: OpsDriver,
) -> None:
    hr = driver.topics.hr
    before = hr_event("a-1")
    last_before = await driver.publish(hr, "a-1", before.to_json())
    await wait_past(last_before)
    since = datetime.fromtimestamp((last_before + 1) / 1000, UTC)
    b, c = hr_event("b-1"), hr_event("c-1", title="Lead")
    await driver.publish(hr, "b-1", b.to_json())
    await driver.publish(hr, "c-1", c.to_json())
    # A copy made by an earlier replay, and a redrive of `b` (same event): neither again.
    old_copy = hr_event("d-1")
    await driver.publish(hr, "d-1", old_copy.to_json(), kafka_headers({REPLAY_HEADER: "x"}))
    await driver.publish(hr, "b-1", b.to_json(), kafka_headers({REDRIVE_HEADER: "1"}))

    result = await driver.invoke("replay", "--since", since.isoformat())

    assert result.exit_code == 0, result.output
    replay_id = _replay_id(result.output)
    copies = [r for r in await driver.read(hr) if r.headers.get(REPLAY_HEADER) == replay_id]
    assert sorted((r.key, r.value) for r in copies) == sorted(
        [("b-1", b.to_json()), ("c-1", c.to_json())]
    )
    assert all(r.headers["content-type"] == "application/cloudevents+json" for r in copies)
    assert "2 HR events republished of 4 read" in result.output
    assert "skipped 1 earlier replay copies, 1 duplicates" in result.output


async def test_replays_do_not_compound(driver: OpsDriver) -> None:
    hr = driver.topics.hr
    await driver.publish(hr, "a-1", hr_event("a-1").to_json())

    first = await driver.invoke("replay", "--since", "earliest")
    second = await driver.invoke("replay", "--since", "earliest")

    assert "1 HR events republished of 1 read" in first.output
    assert "1 HR events republished of 2 read; skipped 1 earlier replay copies" in second.output
    assert len(await driver.read(hr)) == 3


async def test_replay_skips_an_erased_employees_earlier_events_but_not_later_ones(
    driver: OpsDriver,
) -> None:
    hr = driver.topics.hr
    erased_before = hr_event("e-1", time=datetime.now(UTC) - timedelta(minutes=5))
    kept = hr_event("k-1")
    await driver.publish(hr, "e-1", erased_before.to_json())
    await driver.publish(hr, "k-1", kept.to_json())
    erased = await driver.invoke("erase", "e-1", "--force")
    assert erased.exit_code == 0, erased.output
    rehired = hr_event("e-1", time=datetime.now(UTC) + timedelta(seconds=1))
    await driver.publish(hr, "e-1", rehired.to_json())

    result = await driver.invoke("replay", "--since", "earliest")

    assert result.exit_code == 0, result.output
    replay_id = _replay_id(result.output)
    copies = [r.value for r in await driver.read(hr) if r.headers.get(REPLAY_HEADER) == replay_id]
    assert sorted(copies) == sorted([kept.to_json(), rehired.to_json()])
    assert "1 of erased employees" in result.output


async def test_replay_on_an_empty_range_says_so(driver: OpsDriver) -> None:
    result = await driver.invoke("replay", "--since", datetime.now(UTC).isoformat())

    assert result.exit_code == 0, result.output
    assert "0 HR events republished of 0 read" in result.output


async def test_replay_without_the_topic_is_a_clear_failure(ops_without_topics: OpsDriver) -> None:
    result = await ops_without_topics.invoke("replay", "--since", "earliest")

    assert result.exit_code == 1
    assert "does not exist; run `onboarding-ops topics` first" in result.output
