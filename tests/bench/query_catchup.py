"""The projector catching up: 100k enriched events into an empty `users` collection.

Run: `uv run python -m tests.bench.query_catchup`. Publishes the events to a private broker
first, then times the projector (the service's own, in-process) from start until its
committed offsets reach the end of the topic, and checks every user is stored.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from onboarding_events import USER_ENRICHED, USERS_ENRICHED_TOPIC, EnrichedUser, UserEnriched
from onboarding_runtime.erasures import ErasureWatch
from onboarding_runtime.kafka import KafkaConnection
from onboarding_runtime.mongo import open_mongo
from onboarding_runtime.pii import Pseudonymizer
from onboarding_runtime.view import ActiveCollection, StatusView, UsersView, ensure_view
from query_service.projector import build_projector

from tests.bench.query_infra import bench_infra, with_database

EVENTS = 100_000


async def publish(bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, acks="all")
    await producer.start()
    now = datetime.now(UTC)
    try:
        pending = []
        for n in range(EVENTS):
            employee_id = f"c{n:07d}"
            event = UserEnriched(
                source="urn:bench",
                type=USER_ENRICHED,
                subject=employee_id,
                time=now,
                data=EnrichedUser(
                    id=employee_id,
                    name=f"First{n} Last{n}",
                    email=f"u{n}@example.com",
                    title="Engineer",
                    department="Engineering",
                    startDate="2024-01-15",
                    groups=["Everyone", "Engineering"],
                    applications=["Slack"],
                    onboarded=True,
                ),
                hreventid=f"hr-{n}",
                hroffset=str(n),
            )
            pending.append(
                await producer.send(
                    USERS_ENRICHED_TOPIC, key=employee_id.encode(), value=event.to_json()
                )
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def committed(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


async def catch_up(bootstrap: str, url: str) -> tuple[float, int]:
    client, db = open_mongo(url)
    pointer = ActiveCollection(db)
    await ensure_view(db, pointer)
    # As the service runs it: the erasure log read before every batch, erasures filtered.
    erasures = ErasureWatch(KafkaConnection(bootstrap), Pseudonymizer(b"bench-key"))
    await erasures.start()
    users = UsersView(db, pointer=pointer, erased=erasures.erasures.covers)
    runner = build_projector(
        kafka=KafkaConnection(bootstrap),
        group_id="bench-catchup",
        users=users,
        status=StatusView(db, users, erased=erasures.erasures.covers),
        max_batch=2000,
        sync_erasures=erasures.sync,
    )
    started = time.monotonic()
    task = asyncio.create_task(runner.run())
    try:
        while True:
            await asyncio.sleep(0.5)
            done = await committed(bootstrap, "bench-catchup")
            # A private, fresh topic: its offsets start at 0, so this sum counts records.
            if sum(o for tp, o in done.items() if tp.topic == USERS_ENRICHED_TOPIC) >= EVENTS:
                break
        elapsed = time.monotonic() - started
    finally:
        runner.stop()
        await task
        await erasures.stop()
    stored = await db["users"].count_documents({})
    await client.close()
    return elapsed, stored


def main() -> None:
    with bench_infra() as cfg:
        started = time.monotonic()
        asyncio.run(publish(cfg.bootstrap_servers))
        print(f"published {EVENTS:,} enriched events in {time.monotonic() - started:.1f} s")
        elapsed, stored = asyncio.run(
            catch_up(cfg.bootstrap_servers, with_database(cfg.mongodb_url, "catchup"))
        )
        print(f"projected {stored:,} users in {elapsed:.1f} s: {stored / elapsed:,.0f} users/s")


if __name__ == "__main__":
    main()
