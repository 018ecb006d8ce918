"""The version-guarded writer on the real database, without Kafka: re-delivery, gaps, order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from onboarding_runtime.mongo import Document, open_mongo
from onboarding_runtime.view import (
    ActiveCollection,
    Delete,
    Put,
    Slice,
    UsersView,
    VersionedWriter,
    version_of,
)
from pymongo.asynchronous.database import AsyncDatabase
from query_support import with_database

pytestmark = pytest.mark.integration

T0 = datetime(2024, 1, 10, tzinfo=UTC)
OLD, NEW = version_of(T0, 1), version_of(T0 + timedelta(seconds=1), 2)
PART = ("users.enriched.v1", 0)


@pytest.fixture
async def db(mongodb_url: str) -> AsyncIterator[AsyncDatabase[Document]]:
    client, database = open_mongo(with_database(mongodb_url, f"w{uuid.uuid4().hex[:10]}"))
    try:
        yield database
    finally:
        await client.close()


def put(version: str, title: str) -> Put:
    return Put("e1", version, {"title": title})


async def stored(db: AsyncDatabase[Document]) -> list[dict[str, Any]]:
    return await db["users"].find({}).to_list()


async def test_a_batch_delivered_again_writes_nothing(db: AsyncDatabase[Document]) -> None:
    writer = VersionedWriter(db, "users")
    batch = Slice(PART, 0, 2, [put(OLD, "old"), put(NEW, "new")])
    assert await writer.apply(batch) == 1  # folded: only the newest lands
    assert await writer.apply(batch) == 0
    assert await stored(db) == [{"_id": "e1", "version": NEW, "title": "new"}]


async def test_an_older_version_never_overwrites_even_after_a_restart(
    db: AsyncDatabase[Document],
) -> None:
    await VersionedWriter(db, "users").apply(Slice(PART, 0, 1, [put(NEW, "new")]))
    restarted = VersionedWriter(db, "users")  # knows nothing: reloads from the database
    assert await restarted.apply(Slice(PART, 5, 6, [put(OLD, "old")])) == 0
    assert (await stored(db))[0]["title"] == "new"


async def test_a_tombstone_deletes_and_a_later_event_recreates(
    db: AsyncDatabase[Document],
) -> None:
    writer = VersionedWriter(db, "users")
    await writer.apply(Slice(PART, 0, 1, [put(OLD, "old")]))
    await writer.apply(Slice(PART, 1, 2, [Delete("e1")]))
    assert await stored(db) == []
    await writer.apply(Slice(PART, 2, 3, [put(NEW, "back")]))
    assert (await stored(db))[0]["title"] == "back"


async def test_single_guarded_upsert_and_erase(db: AsyncDatabase[Document]) -> None:
    writer = VersionedWriter(db, "users")
    assert await writer.put_if_newer(put(NEW, "new"))
    assert not await writer.put_if_newer(put(OLD, "old"))
    assert not await writer.put_if_newer(put(NEW, "new"))
    await writer.erase("e1")
    assert await stored(db) == []


async def test_a_rebuilt_collection_goes_live_when_the_pointer_flips(
    db: AsyncDatabase[Document],
) -> None:
    pointer = ActiveCollection(db, ttl_s=0.0)
    live = UsersView(db, pointer=pointer)
    body = {"body": '{"id":"e1"}', "etag": '"1"', "event_id": "h1", "completed_at": None}
    await VersionedWriter(db, "users").apply(Slice(PART, 0, 1, [Put("e1", OLD, body)]))
    assert await live.get("e1") is not None

    rebuilt = UsersView(db, collection="users_rebuild")  # what rebuild-view fills
    assert await rebuilt.get("e1") is None
    await VersionedWriter(db, "users_rebuild").apply(Slice(PART, 0, 1, [Put("e2", NEW, body)]))
    await pointer.flip("users_rebuild")
    assert await live.get("e1") is None
    assert await live.get("e2") is not None
    assert await ActiveCollection(db).name() == "users_rebuild"


async def test_rewriting_many_known_employees_in_one_slice_completes(
    db: AsyncDatabase[Document],
) -> None:
    # FerretDB v1 hangs for good on one `update` command with 100+ matched updates.
    writer = VersionedWriter(db, "users")
    ids = [f"e{n:03d}" for n in range(150)]
    await writer.apply(Slice(PART, 0, 150, [Put(i, OLD, {"title": "old"}) for i in ids]))

    again = Slice(PART, 150, 300, [Put(i, NEW, {"title": "new"}) for i in ids])

    assert await asyncio.wait_for(writer.apply(again), timeout=60) == 150
    assert await db["users"].count_documents({"title": "new"}) == 150
