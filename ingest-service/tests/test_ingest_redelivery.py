"""Re-deliveries recognised from the HR topic itself: across replicas and within the window.

Real broker: the delivery index of each app instance follows the topic.
"""

from __future__ import annotations

import time

import pytest
from aiokafka import AIOKafkaProducer
from ingest_service.acceptor import event_id_for
from ingest_service.settings import Settings
from ingest_support import SEED, read_topic, replica, running, variant
from onboarding_devstack.polling import eventually_async
from onboarding_events import HrUserUpserted

pytestmark = pytest.mark.integration


async def test_a_redelivery_to_another_replica_is_not_written_again(
    settings: Settings, hr_topic: str
) -> None:
    async with replica(settings, hr_topic) as one, replica(settings, hr_topic) as two:
        first = await one.client.post("/v1/hr/webhook", json=SEED, headers={"webhook-id": "msg_r1"})
        # The sender retries seconds later, by then the other replica has read the record
        # (within milliseconds; the narrower race is the enrich service's to catch).
        await eventually_async(lambda: "msg_r1" in two.deliveries, within=10)
        again = await two.client.post("/v1/hr/webhook", json=SEED, headers={"webhook-id": "msg_r1"})

    assert first.status_code == again.status_code == 202
    assert again.json()["event_id"] == first.json()["event_id"]
    records = await read_topic(settings.kafka_bootstrap_servers, hr_topic, expect=1, settle=1.5)
    assert [HrUserUpserted.from_json(r.value).id for r in records] == [event_id_for("msg_r1")]


async def test_after_a_restart_only_deliveries_within_the_retention_count_as_seen(
    settings: Settings, hr_topic: str
) -> None:
    # Two earlier acceptances, written as ingest writes them: 2 h and 10 min ago.
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    now_ms = int(time.time() * 1000)
    try:
        for delivery, age_s in (("msg_old", 7200), ("msg_recent", 600)):
            await producer.send_and_wait(
                hr_topic,
                value=b"{}",
                key=b"12345",
                headers=[("delivery-id", delivery.encode())],
                timestamp_ms=now_ms - age_s * 1000,
            )
    finally:
        await producer.stop()

    one_hour = variant(settings, idempotency_retention_s=3600)
    async with running(one_hour, hr_topic) as client:
        recent = await client.post(
            "/v1/hr/webhook", json=SEED, headers={"webhook-id": "msg_recent"}
        )
        old = await client.post("/v1/hr/webhook", json=SEED, headers={"webhook-id": "msg_old"})

    assert recent.json()["event_id"] == event_id_for("msg_recent")
    assert old.json()["event_id"] == event_id_for("msg_old")
    records = await read_topic(settings.kafka_bootstrap_servers, hr_topic, expect=3, settle=1.5)
    written = [HrUserUpserted.from_json(r.value).id for r in records if r.value != b"{}"]
    assert written == [event_id_for("msg_old")]  # the recent one was known: not written again
