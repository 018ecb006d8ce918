from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from onboarding_events import ERASURES_TOPIC, EmployeeErased
from onboarding_runtime.erasures import Erasures, ErasureWatch
from onboarding_runtime.kafka import EventProducer, KafkaConnection
from onboarding_runtime.pii import Pseudonymizer

PSEUDONYM = Pseudonymizer(b"test-key")
ERASED_AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _erasures_with(employee_id: str) -> Erasures:
    erasures = Erasures(PSEUDONYM)
    erasures.apply(PSEUDONYM(employee_id).encode(), EmployeeErased(erased_at=ERASED_AT).to_json())
    return erasures


def test_events_up_to_the_erasure_belong_to_the_erased_person() -> None:
    erasures = _erasures_with("e-1")

    assert erasures.covers("e-1", ERASED_AT - timedelta(days=3))
    assert erasures.covers("e-1", ERASED_AT)
    assert not erasures.covers("e-1", ERASED_AT + timedelta(seconds=1))  # a re-hire
    assert not erasures.covers("e-2", ERASED_AT - timedelta(days=3))


def test_the_log_is_keyed_by_pseudonym_not_by_id() -> None:
    erasures = Erasures(PSEUDONYM)
    erasures.apply(b"e-1", EmployeeErased(erased_at=ERASED_AT).to_json())

    assert not erasures.covers("e-1", ERASED_AT)


def test_an_unreadable_record_erases_nobody() -> None:
    erasures = Erasures(PSEUDONYM)
    erasures.apply(PSEUDONYM("e-1").encode(), b"not json")

    assert len(erasures) == 0


@pytest.mark.integration
async def test_watch_reads_existing_erasures_and_follows_new_ones(
    kafka_bootstrap: str, unique_name: str
) -> None:
    producer = EventProducer(KafkaConnection(kafka_bootstrap))
    await producer.start()
    before, after = f"{unique_name}-a", f"{unique_name}-b"
    value = EmployeeErased(erased_at=ERASED_AT).to_json()
    await producer.publish(ERASURES_TOPIC, key=PSEUDONYM(before), value=value)
    watch = ErasureWatch(KafkaConnection(kafka_bootstrap), PSEUDONYM)
    try:
        await watch.start()
        assert watch.caught_up.is_set()
        assert watch.erasures.covers(before, ERASED_AT)

        await producer.publish(ERASURES_TOPIC, key=PSEUDONYM(after), value=value)
        deadline = time.monotonic() + 15
        while not watch.erasures.covers(after, ERASED_AT):
            assert time.monotonic() < deadline, "the new erasure was not followed"
            await asyncio.sleep(0.1)
    finally:
        await watch.stop()
        await producer.stop()
