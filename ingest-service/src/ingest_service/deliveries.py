"""The durable record of delivery ids seen, so a re-delivery is recognised after a restart.

One collection, two kinds of document per delivery id, both insert-only:

- `c:<id>` the claim, written *before* publishing: the event id and the CloudEvent `time`
  chosen for this delivery, so a retry publishes the very same event (same id, same time;
  downstream orders an employee's events by time).
- `p:<id>` written *after* Kafka acknowledged it: a later delivery is answered from here
  without publishing again.

Insert-only because an insert is an index probe on any MongoDB (FerretDB v1 included),
while a filter on `_id` is a full scan on FerretDB v1's SQLite backend; so a first delivery
costs one insert before and one after publishing (batched with the concurrent ones, see
`insert_batcher.py`), and only a re-delivery reads.
Old records expire through a TTL index on `expires_at` on MongoDB; FerretDB v1 has no TTL
indexes, so a periodic `sweep` deletes them, and a claim found expired counts as absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from onboarding_runtime.mongo import Document
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure, PyMongoError

from ingest_service.insert_batcher import InsertBatcher

NOT_IMPLEMENTED = 238  # FerretDB v1 answers this to `expireAfterSeconds`


class StoreUnavailable(Exception):
    """The store did not answer; the caller goes on without deduplication."""


@dataclass(frozen=True)
class Delivery:
    event_id: str
    time: datetime
    published: bool


class DeliveryStore(Protocol):
    async def claim(self, delivery_id: str, event_id: str, time: datetime) -> Delivery:
        """Record the first delivery of `delivery_id`, or return the one recorded before."""
        ...

    async def mark_published(self, delivery_id: str) -> None: ...

    async def ready(self) -> bool: ...


def _claim_id(delivery_id: str) -> str:
    return f"c:{delivery_id}"


def _published_id(delivery_id: str) -> str:
    return f"p:{delivery_id}"


class MongoDeliveryStore:
    def __init__(
        self, collection: AsyncCollection[Document], *, retention: timedelta, clock: Clock
    ) -> None:
        self._collection = collection
        self._retention = retention
        self._clock = clock
        self._inserts = InsertBatcher(collection)

    async def setup(self) -> bool:
        """The TTL index; False where the server has none (FerretDB v1), so `sweep` does it."""
        try:
            try:
                await self._collection.create_index("expires_at", expireAfterSeconds=0)
            except OperationFailure as exc:
                if exc.code != NOT_IMPLEMENTED:
                    raise
                await self._collection.create_index("expires_at")
                return False
        except PyMongoError as exc:
            raise StoreUnavailable(type(exc).__name__) from exc
        return True

    async def claim(self, delivery_id: str, event_id: str, time: datetime) -> Delivery:
        try:
            return await self._claim(delivery_id, event_id, time)
        except PyMongoError as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    async def _claim(self, delivery_id: str, event_id: str, time: datetime) -> Delivery:
        for _ in range(3):  # a concurrent sweep can remove what the insert collided with
            if await self._insert(_claim_id(delivery_id), event_id=event_id, time=time):
                return Delivery(event_id, time, published=False)
            found = await self._load(delivery_id)
            if found is not None:
                return found
        raise StoreUnavailable("claim kept colliding with a sweep")

    async def _load(self, delivery_id: str) -> Delivery | None:
        ids = [_claim_id(delivery_id), _published_id(delivery_id)]
        docs = {d["_id"]: d async for d in self._collection.find({"_id": {"$in": ids}})}
        claim = docs.get(ids[0])
        now = self._clock()
        if claim is None:
            return None
        if claim["expires_at"] <= now:  # expired but not swept yet: a new delivery
            await self._collection.delete_many({"_id": {"$in": ids}})
            return None
        return Delivery(claim["event_id"], claim["time"], published=ids[1] in docs)

    async def _insert(self, doc_id: str, **fields: object) -> bool:
        expires_at = self._clock() + self._retention
        return await self._inserts.insert({"_id": doc_id, **fields, "expires_at": expires_at})

    async def mark_published(self, delivery_id: str) -> None:
        try:
            await self._insert(_published_id(delivery_id))
        except PyMongoError as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    async def sweep(self) -> int:
        try:
            result = await self._collection.delete_many({"expires_at": {"$lte": self._clock()}})
        except PyMongoError as exc:
            raise StoreUnavailable(type(exc).__name__) from exc
        return result.deleted_count

    async def ready(self) -> bool:
        try:
            await self._collection.database.command("ping")
        except PyMongoError:
            return False
        return True


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def utc_now_ms() -> datetime:
    """Now, to the millisecond: what MongoDB keeps of a date, so a stored time reads back equal."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
