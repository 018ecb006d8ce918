"""The broker stops mid-test: 503 with Retry-After (a batch: for each record), nothing lost,
nothing written twice.

Uses its own broker (started here on free ports), never the session's.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ingest_support import SEED, make_settings, read_topic, running
from onboarding_devstack.kafka import stop_kafka
from onboarding_devstack.polling import eventually_async
from onboarding_devstack.private_broker import PrivateBroker
from onboarding_events import HrUserUpserted
from onboarding_runtime.kafka import KafkaConnection, TopicSpec, ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TOPIC = "hr.outage"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    own = PrivateBroker(ROOT, tmp_path)
    try:
        yield own
    finally:
        stop_kafka(own.run_dir)


async def _post(client: httpx.AsyncClient, delivery: str) -> httpx.Response:
    body = {**SEED, "employee_id": f"emp-{delivery}"}
    return await client.post("/v1/hr/webhook", json=body, headers={"webhook-id": delivery})


async def _post_batch(client: httpx.AsyncClient) -> httpx.Response:
    batch = [{**SEED, "employee_id": f"emp-batch-{n}"} for n in range(3)]
    return await client.post(
        "/v1/hr/webhooks:batch", json=batch, headers={"webhook-id": "during-batch"}
    )


def _statuses(response: httpx.Response) -> list[int]:
    return [result["status"] for result in response.json()["results"]]


async def test_broker_down_gives_503_and_every_accepted_event_is_written_exactly_once(
    broker: PrivateBroker,
) -> None:
    await broker.start()
    await ensure_topics(KafkaConnection(broker.bootstrap), (TopicSpec(TOPIC, partitions=1),))
    settings = make_settings(
        kafka_bootstrap_servers=broker.bootstrap,
        kafka_publish_timeout_s=1.5,
        retry_after_s=2,
    )
    accepted: dict[str, str] = {}
    async with running(settings, TOPIC) as client:
        for delivery in ("before-1", "before-2"):
            response = await _post(client, delivery)
            assert response.status_code == 202
            accepted[delivery] = response.json()["event_id"]

        await broker.stop()
        during = [f"during-{n}" for n in range(4)]
        posts = asyncio.gather(*(_post(client, d) for d in during), _post_batch(client))
        await asyncio.sleep(0.2)  # the posts are now waiting on the broker
        started = time.monotonic()
        healthz = await client.get("/v1/healthz")
        healthz_s = time.monotonic() - started
        readyz = await client.get("/v1/readyz")
        *refused, refused_batch = await posts

        assert healthz.status_code == 200
        assert healthz_s < 0.5
        assert readyz.status_code == 503
        assert "kafka" in readyz.json()["down"]
        assert [r.status_code for r in refused] == [503] * len(during)
        assert all(r.headers["retry-after"] == "2" for r in refused)
        assert refused_batch.status_code == 207
        assert _statuses(refused_batch) == [503] * 3
        assert refused_batch.headers["retry-after"] == "2"

        await broker.start()
        for delivery in during:  # the sender retries each refused delivery until accepted

            async def accepted_now(delivery: str = delivery) -> httpx.Response | None:
                response = await _post(client, delivery)
                return response if response.status_code == 202 else None

            response = await eventually_async(accepted_now, within=60, every=0.5)
            accepted[delivery] = response.json()["event_id"]

        async def batch_accepted() -> httpx.Response | None:
            response = await _post_batch(client)
            return response if _statuses(response) == [202] * 3 else None

        batch = await eventually_async(batch_accepted, within=60, every=0.5)
        for n, result in enumerate(batch.json()["results"]):
            accepted[f"during-batch#{n}"] = result["event_id"]
        after = await _post(client, "after-1")
        assert after.status_code == 202
        accepted["after-1"] = after.json()["event_id"]

    records = await read_topic(broker.bootstrap, TOPIC, expect=len(accepted), settle=2.0)
    written = Counter(HrUserUpserted.from_json(r.value).id for r in records)
    assert written == Counter(accepted.values())  # each accepted event exactly once, no others
