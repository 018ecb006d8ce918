"""A record nobody can read never stops enrich: it is dead-lettered with a reason, and the
next record of the same key is enriched. Real broker, the Okta simulator, enrich-service in
this process (its own group)."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka.structs import ConsumerRecord
from enrich_support import (
    EnrichFactory,
    Simulator,
    end_offsets,
    hr_event,
    read_until,
    unique_person,
)
from onboarding_events import (
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    USERS_ENRICHED_TOPIC,
    header_map,
    kafka_headers,
)
from onboarding_runtime.kafka import EventProducer, KafkaConnection

pytestmark = pytest.mark.integration

DEEP = b"[" * 50_000


async def test_a_record_nested_50000_deep_is_dead_lettered_and_the_next_of_its_key_enriched(
    kafka_bootstrap: str, sim: Simulator, enrich: EnrichFactory
) -> None:
    employee, email = unique_person()
    await sim.put_user(email)
    event = hr_event(employee, email)
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    dlq_since = await end_offsets(kafka_bootstrap, HR_USERS_DLQ_TOPIC)
    producer = EventProducer(KafkaConnection(kafka_bootstrap))
    await producer.start()
    try:
        async with enrich():
            # Handed over back to back, so one poll fetches both: the valid record joins the
            # nested one's lane, and the supersede rule reads the nested one on the poll loop.
            await asyncio.gather(
                producer.enqueue(HR_USERS_TOPIC, key=employee, value=DEEP, headers=kafka_headers()),
                producer.enqueue(
                    HR_USERS_TOPIC, key=employee, value=event.to_json(), headers=kafka_headers()
                ),
            )
            enriched = await read_until(kafka_bootstrap, since, {employee}, bool, within=30)
            # Only the nested one: another test's stack (its own enrich, its own Okta) may
            # dead-letter the valid one as not found, and both may dead-letter the nested one.
            dead = await read_until(kafka_bootstrap, dlq_since, {employee}, _nested, within=30)
    finally:
        await producer.stop()

    assert {json.loads(r.value)["hreventid"] for r in enriched} == {event.id}
    for letter in (r for r in dead if r.value == DEEP):  # the record unchanged
        headers = header_map(letter.headers)
        assert headers["dlq-error-code"] == "invalid_event"
        assert headers["dlq-error-message"].startswith("invalid HR event")
        assert headers["dlq-source"].startswith(f"{HR_USERS_TOPIC}/")


def _nested(found: list[ConsumerRecord[bytes, bytes]]) -> bool:
    return any(r.value == DEEP for r in found)
