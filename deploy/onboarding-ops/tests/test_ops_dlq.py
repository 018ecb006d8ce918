"""`dlq list` shows dead letters with their headers; `dlq redrive` sends them back once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from onboarding_events import Waiting
from onboarding_events.waiting import WAITING_HEADERS
from onboarding_ops.markers import REDRIVE_HEADER
from opskit import OpsDriver, dead_letter, hr_event

pytestmark = pytest.mark.integration


async def test_list_shows_each_dead_letter_with_why_when_and_attempts(driver: OpsDriver) -> None:
    event = hr_event("emp-7")
    await dead_letter(driver, event, code="okta_user_not_found", attempts=5)

    table = await driver.invoke("dlq", "list")
    lines = await driver.invoke("dlq", "list", "--json")

    assert table.exit_code == 0, table.output
    assert "emp-7" in table.output
    assert "okta_user_not_found" in table.output
    assert "1 dead letters" in table.output
    [row] = [json.loads(line) for line in lines.stdout.splitlines()]
    assert row["employee_id"] == "emp-7"
    assert row["error_code"] == "okta_user_not_found"
    assert row["message"] == "no Okta user with this email yet"
    assert row["attempts"] == 5
    assert row["event_id"] == event.id
    assert row["failed_at"]
    assert row["redriven"] is False
    assert row["waited"] is None  # it never waited on a retry tier


async def test_redrive_republishes_the_event_unchanged_with_a_redrive_marker(
    driver: OpsDriver,
) -> None:
    event = hr_event("emp-8")
    await dead_letter(driver, event)

    result = await driver.invoke("dlq", "redrive")

    assert result.exit_code == 0, result.output
    assert "1 HR events sent back for 1 employees" in result.output
    [sent] = await driver.read(driver.topics.hr)
    assert sent.key == "emp-8"
    assert sent.value == event.to_json()
    assert sent.headers[REDRIVE_HEADER] == "1"
    assert sent.headers["content-type"] == "application/cloudevents+json"
    assert not [h for h in sent.headers if h.startswith("dlq-")]


async def test_a_dead_letter_from_a_retry_tier_shows_its_wait_and_is_redriven_afresh(
    driver: OpsDriver,
) -> None:
    event = hr_event("emp-15")
    # What enrich-service dead-letters when a person is still not in Okta past the deadline:
    # the record from the last retry tier, its tier headers still on it.
    first_attempt = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    deadline = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    waited = Waiting(
        tier=5,
        due_at=deadline,
        first_attempt_at=first_attempt,
        wait_until=deadline,
        hr_topic=driver.topics.hr,
        hr_partition=0,
        hr_offset=7,
        reason="pending",
    )
    await dead_letter(driver, event, extra_headers=waited.headers())

    table = await driver.invoke("dlq", "list")
    listed = await driver.invoke("dlq", "list", "--json")
    result = await driver.invoke("dlq", "redrive")

    assert "pending since 2026-12-01T09:00:00+00:00" in table.output
    assert json.loads(listed.stdout)["waited"] == {
        "reason": "pending",
        "tier": 5,
        "first_attempt_at": "2026-12-01T09:00:00+00:00",
        "wait_until": "2026-12-02T09:00:00+00:00",
    }
    assert result.exit_code == 0, result.output
    [sent] = await driver.read(driver.topics.hr)
    assert sent.value == event.to_json()
    assert sent.headers[REDRIVE_HEADER] == "1"
    assert sent.headers["content-type"] == "application/cloudevents+json"
    # Not past its deadline on arrival: enrich-service looks the person up as if new.
    assert WAITING_HEADERS.isdisjoint(sent.headers)
    assert not [h for h in sent.headers if h.startswith("dlq-")]


async def test_a_redriven_dead_letter_is_not_sent_twice_and_leaves_the_list(
    driver: OpsDriver,
) -> None:
    await dead_letter(driver, hr_event("emp-9"))
    await driver.invoke("dlq", "redrive")

    again = await driver.invoke("dlq", "redrive")
    waiting = await driver.invoke("dlq", "list", "--json")
    everything = await driver.invoke("dlq", "list", "--json", "--all")

    assert "nothing to redrive" in again.output
    assert len(await driver.read(driver.topics.hr)) == 1
    assert waiting.stdout.strip() == ""
    [row] = [json.loads(line) for line in everything.stdout.splitlines()]
    assert row["redriven"] is True


async def test_a_redrive_that_fails_again_counts_its_redrives(driver: OpsDriver) -> None:
    event = hr_event("emp-10")
    # What the enrich service dead-letters after the first redrive failed as well.
    await dead_letter(driver, event, extra_headers=[(REDRIVE_HEADER, b"1")])

    listed = await driver.invoke("dlq", "list", "--json")
    await driver.invoke("dlq", "redrive", "--employee", "emp-10")

    assert json.loads(listed.stdout)["redrives"] == 1
    [sent] = await driver.read(driver.topics.hr)
    assert sent.headers[REDRIVE_HEADER] == "2"


async def test_redrive_of_one_employee_leaves_the_others(driver: OpsDriver) -> None:
    await dead_letter(driver, hr_event("emp-11"))
    await dead_letter(driver, hr_event("emp-12"))

    result = await driver.invoke("dlq", "redrive", "--employee", "emp-12")

    assert result.exit_code == 0, result.output
    assert [r.key for r in await driver.read(driver.topics.hr)] == ["emp-12"]
    waiting = await driver.invoke("dlq", "list", "--json")
    assert [json.loads(line)["employee_id"] for line in waiting.stdout.splitlines()] == ["emp-11"]


async def test_redrive_of_an_unknown_employee_exits_2(driver: OpsDriver) -> None:
    await dead_letter(driver, hr_event("emp-13"))

    result = await driver.invoke("dlq", "redrive", "--employee", "nobody-here")

    assert result.exit_code == 2
    assert "no dead letter is waiting for employee nobody-here" in result.output
    assert await driver.read(driver.topics.hr) == []


async def test_an_erased_employees_dead_letters_are_neither_listed_nor_redriven(
    driver: OpsDriver,
) -> None:
    await dead_letter(driver, hr_event("emp-14"))
    await driver.invoke("erase", "emp-14", "--force")

    listed = await driver.invoke("dlq", "list")
    redriven = await driver.invoke("dlq", "redrive")

    assert "emp-14" not in listed.output
    assert "1 of erased employees not shown" in listed.output
    assert "nothing to redrive" in redriven.output
    assert await driver.read(driver.topics.hr) == []
