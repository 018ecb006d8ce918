"""The delivery store on the real MongoDB-protocol server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from ingest_service.deliveries import MongoDeliveryStore, utc_now_ms
from ingest_service.insert_batcher import InsertBatcher
from onboarding_runtime.mongo import open_mongo

pytestmark = pytest.mark.integration


async def test_concurrent_inserts_are_batched_and_duplicates_told_apart(
    mongodb_url: str, unique_name: str
) -> None:
    client, database = open_mongo(mongodb_url)
    try:
        collection = database[unique_name]
        await collection.insert_many([{"_id": f"d{n}"} for n in range(0, 40, 4)])
        batcher = InsertBatcher(collection)

        results = await asyncio.gather(*(batcher.insert({"_id": f"d{n}"}) for n in range(40)))

        assert results == [n % 4 != 0 for n in range(40)]
        assert await collection.count_documents({}) == 40
    finally:
        await client.close()


async def test_a_claim_keeps_its_time_and_expired_claims_count_as_new(
    mongodb_url: str, unique_name: str
) -> None:
    client, database = open_mongo(mongodb_url)
    now = utc_now_ms()
    clock = [now]
    store = MongoDeliveryStore(
        database[unique_name], retention=timedelta(hours=1), clock=lambda: clock[0]
    )
    try:
        await store.setup()  # no TTL index on FerretDB v1: `sweep` is what expires
        first = await store.claim("d1", "e1", now)
        again = await store.claim("d1", "e1", now + timedelta(seconds=5))
        await store.mark_published("d1")
        published = await store.claim("d1", "e1", now + timedelta(seconds=9))
        clock[0] = now + timedelta(hours=2)
        expired = await store.claim("d1", "e1", clock[0])
        await store.claim("d2", "e2", clock[0])
        clock[0] = now + timedelta(hours=4)
        swept = await store.sweep()
    finally:
        await client.close()

    assert (first.time, first.published) == (now, False)
    assert (again.time, again.published) == (now, False)
    assert (published.time, published.published) == (now, True)
    assert (expired.time, expired.published) == (now + timedelta(hours=2), False)
    assert swept == 2
