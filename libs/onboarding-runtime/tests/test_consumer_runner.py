"""The consumer runner on the real broker: order, waiting retries, supersede, breaker, DLQ."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_runtime.kafka import (
    Failure,
    PermanentError,
    Record,
    RetryableError,
    UnavailableError,
)
from onboarding_runtime.kafka.retry import RetryPolicy
from runtime_kafka_support import committed, make_topic, runner_for, running, send

pytestmark = pytest.mark.integration

FAST = RetryPolicy(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2)


async def test_a_waiting_key_blocks_only_itself_and_is_never_committed_past(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    handled: list[tuple[str, bytes]] = []

    async def handler(record: Record) -> None:
        if record.key == b"late":
            raise RetryableError("not there yet", code="not_yet", retry_for=3600)
        handled.append(((record.key or b"").decode(), record.value or b""))

    items = [("a", b"1"), ("late", b"x"), ("a", b"2"), ("b", b"1"), ("a", b"3")]
    await send(kafka_bootstrap, topic, items)
    runner = runner_for(kafka_bootstrap, topic, unique_name, handler=handler, retry=FAST)
    async with running(runner):
        await eventually(lambda: len(handled) == 4)
        # Everything after the waiting record is done, but the commit stays at it (offset 1).
        await eventually(lambda: _is(committed(kafka_bootstrap, unique_name, topic), 1))
    assert [v for k, v in handled if k == "a"] == [b"1", b"2", b"3"]

    # A restart (or a crash) brings the waiting record back: it was never lost.
    seen: list[bytes] = []

    async def second(record: Record) -> None:
        seen.append(record.value or b"")

    async with running(runner_for(kafka_bootstrap, topic, unique_name, handler=second)):
        await eventually(lambda: len(seen) >= 4)
        await eventually(lambda: _is(committed(kafka_bootstrap, unique_name, topic), 5))
    assert seen[0] == b"x"  # the waiting record first: its partition resumes from it


async def _is(value: object, expected: int) -> bool:
    return await value == expected  # type: ignore[misc]


async def test_a_newer_record_supersedes_a_waiting_one(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    handled: list[bytes] = []
    dead: list[Record] = []

    async def handler(record: Record) -> None:
        if record.value == b"old":
            raise RetryableError("not there yet", code="not_yet", retry_for=3600)
        handled.append(record.value or b"")

    async def dead_letter(record: Record, failure: Failure) -> None:
        dead.append(record)

    def supersedes(newer: Record, older: Record) -> bool:
        return True

    await send(kafka_bootstrap, topic, [("k", b"old")])
    runner = runner_for(
        kafka_bootstrap,
        topic,
        unique_name,
        handler=handler,
        dead_letter=dead_letter,
        supersedes=supersedes,
        retry=FAST,
    )
    async with running(runner):
        await eventually(lambda: _is(committed(kafka_bootstrap, unique_name, topic), 0))
        await send(kafka_bootstrap, topic, [("k", b"new")])
        await eventually(lambda: handled == [b"new"])
        await eventually(lambda: _is(committed(kafka_bootstrap, unique_name, topic), 2))
    assert dead == []


async def test_retry_for_ends_in_a_dead_letter_and_permanent_errors_at_once(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    dead: list[tuple[Record, Failure]] = []

    async def handler(record: Record) -> None:
        if record.value == b"bad":
            raise PermanentError("invalid", code="invalid_event")
        raise RetryableError("not there", code="not_yet", retry_for=1.0)

    async def dead_letter(record: Record, failure: Failure) -> None:
        dead.append((record, failure))

    await send(kafka_bootstrap, topic, [("a", b"bad"), ("b", b"missing")])
    started = time.monotonic()
    runner = runner_for(
        kafka_bootstrap, topic, unique_name, handler=handler, dead_letter=dead_letter, retry=FAST
    )
    async with running(runner):
        await eventually(lambda: len(dead) == 2)
        await eventually(lambda: _is(committed(kafka_bootstrap, unique_name, topic), 2))
    by_code = {failure.code: (record, failure) for record, failure in dead}
    assert by_code["invalid_event"][1].attempts == 1
    missing = by_code["not_yet"][1]
    assert missing.attempts > 2  # retried for the period, not the policy's 3 attempts
    assert missing.last_failure >= missing.first_failure
    assert time.monotonic() - started >= 1.0


async def test_an_unavailable_dependency_pauses_consumption_instead_of_dead_lettering(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    down_until = time.monotonic() + 2.0
    calls: list[float] = []
    done: list[str] = []
    dead: list[Record] = []

    async def handler(record: Record) -> None:
        calls.append(time.monotonic())
        if time.monotonic() < down_until:
            raise UnavailableError("dependency down", code="down")
        done.append((record.key or b"").decode())

    async def dead_letter(record: Record, failure: Failure) -> None:
        dead.append(record)

    from onboarding_runtime.kafka import CircuitBreaker

    await send(kafka_bootstrap, topic, [(f"k{i}", b"v") for i in range(20)])
    runner = runner_for(
        kafka_bootstrap,
        topic,
        unique_name,
        handler=handler,
        dead_letter=dead_letter,
        retry=FAST,
        concurrency=4,
        breaker=CircuitBreaker(unique_name, probe_interval_s=0.3, max_probe_interval_s=0.3),
    )
    async with running(runner):
        await eventually(lambda: len(done) == 20)
    assert dead == []
    during = [t for t in calls if t < down_until]
    # The first few in flight fail, then one probe per interval: not 20 records x attempts.
    assert len(during) <= 4 + 2.0 / 0.3 + 2


async def test_a_batch_handler_gets_each_partition_slice(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    seen: list[bytes] = []

    async def batch(records: Sequence[Record]) -> None:
        seen.extend(r.value or b"" for r in records)

    await send(kafka_bootstrap, topic, [("a", b"1"), ("b", b"2")])
    async with running(runner_for(kafka_bootstrap, topic, unique_name, batch_handler=batch)):
        await eventually(lambda: len(seen) == 2)
        await eventually(lambda: _is(committed(kafka_bootstrap, unique_name, topic), 2))
