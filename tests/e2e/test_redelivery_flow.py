"""A repeated webhook delivery through the whole stack: one event, one enrichment.

The test stack runs ingest with two worker processes (INGEST_WORKERS=2), and each retry
comes on a new connection, so retries reach either process: both must recognise the
delivery, one from its own publish and the other from following the HR topic.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from onboarding_devstack.polling import eventually, eventually_async
from onboarding_devstack.stack import StackConfig
from onboarding_events import HR_USERS_TOPIC, USERS_ENRICHED_TOPIC

from tests.e2e.ops_support import found, new_employee, put_okta_user

pytestmark = pytest.mark.integration


async def _keyed(bootstrap: str, topic: str, key: str) -> list[dict[str, bytes]]:
    """The headers of every record of `topic` with this key, from the beginning."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = list(await eventually_async(lambda: consumer.assignment() or None))
        ends = await consumer.end_offsets(partitions)
        headers: list[dict[str, bytes]] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                headers += [dict(r.headers) for r in records if r.key == key.encode()]
        return headers
    finally:
        await consumer.stop()


def test_a_repeated_delivery_is_written_once_and_enriched_once(stack: StackConfig) -> None:
    employee_id, email = new_employee("redelivered")
    put_okta_user(stack, email, ["Everyone"])
    body = {"employee_id": employee_id, "first_name": "Re", "last_name": "Try", "email": email}
    delivery = f"msg_{uuid.uuid4().hex}"

    def deliver() -> httpx.Response:
        # a new connection each time, as a sender's retry is: either worker may take it
        with httpx.Client() as client:
            return client.post(
                f"{stack.url('ingest-service')}/v1/hr/webhook",
                json=body,
                headers={"webhook-id": delivery},
            )

    first = deliver()
    eventually(lambda: found(stack, employee_id), within=60)
    retries = [deliver() for _ in range(6)]

    assert first.status_code == 202
    assert {r.status_code for r in retries} == {202}
    assert {r.json()["event_id"] for r in retries} == {first.json()["event_id"]}
    hr = asyncio.run(_keyed(stack.bootstrap_servers, HR_USERS_TOPIC, employee_id))
    assert [h.get("delivery-id") for h in hr] == [delivery.encode()]
    enriched = asyncio.run(_keyed(stack.bootstrap_servers, USERS_ENRICHED_TOPIC, employee_id))
    assert len(enriched) == 1
