"""Version-guarded writes of one view collection: bulk for a partition's slice, or single.

Every document is `{"_id": employee_id, "version": ..., **fields}`. A change lands only when
its version is newer than the stored one, so duplicates, replays and late arrivals never
regress state; a `Delete` (tombstone, erasure) removes the document whatever its version.

Bulk writes never rely on a guard failing inside the server: FerretDB v1 answers a bulk
update that hits a duplicate key with a malformed reply (PyMongo raises `KeyError`), and
its guarded updates scan the whole table. So the winners are decided in Python against
the `VersionIndex` (one writer per employee, thanks to partition ownership) and only they
are written: `InsertOne` for new employees (fast on FerretDB: no scan), `ReplaceOne` by
`_id` for known ones, `DeleteOne` for tombstones. Only standard MongoDB operations.

Replaces go at most `REPLACES_PER_COMMAND` to an `update` command (see `bulk_write_bounded`).

With `erased` (the erasure log), a `Put` of an event from before the employee's erasure is
dropped: a projector that lags behind an `onboarding-ops erase` never writes them back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import Counter
from pymongo import DeleteOne, InsertOne, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from onboarding_runtime.mongo import Document
from onboarding_runtime.view.version_index import PartitionKey, VersionIndex
from onboarding_runtime.view.versions import time_of

COPIES_DROPPED = Counter(
    "onboarding_view_event_copies_dropped_total",
    "Accepted HR records not made the newest: a plain second record of an event seen before",
)
ERASED_DROPPED = Counter(
    "onboarding_view_erased_dropped_total",
    "View changes not written because their employee was erased after the event",
)

CollectionName = Callable[[], Awaitable[str]]
# Whether the employee was erased at or after the given event time (`erasures.Erasures`).
Erased = Callable[[str, datetime], bool]
WriteOp = InsertOne[Document] | ReplaceOne[Document] | DeleteOne

# FerretDB v1.24 (handler.updateDocument) keeps each matched update's read cursor, i.e. one
# pooled SQLite connection, open until its whole `update` command ends, and a database's pool
# holds 100 connections with no wait timeout: a command with 100 matched updates waits forever
# for a 101st, and every later command on that database (`ping` too) queues behind it. Small
# commands stay far below that, with room for other writers of the same database meanwhile.
REPLACES_PER_COMMAND = 20


@dataclass(frozen=True)
class Put:
    employee_id: str
    version: str
    fields: Document = field(default_factory=dict)

    def document(self) -> Document:
        return {"_id": self.employee_id, "version": self.version, **self.fields}


@dataclass(frozen=True)
class Delete:
    employee_id: str


Change = Put | Delete


@dataclass(frozen=True)
class Slice:
    """One partition's records of a poll, decoded into changes in offset order."""

    partition: PartitionKey
    first_offset: int
    next_offset: int
    changes: Sequence[Change]


def _fixed(name: str) -> CollectionName:
    async def constant() -> str:
        return name

    return constant


class VersionedWriter:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        collection: str | CollectionName,
        *,
        erased: Erased | None = None,
        copies_of_events: bool = False,
    ) -> None:
        self._db = db
        self._erased = erased
        # The status view's accepted events: a plain second record of an event already seen
        # (the same `event_id`, not marked `resent`) is the same event, not a newer one.
        self._copies = copies_of_events
        self._collection_name = _fixed(collection) if isinstance(collection, str) else collection
        self._name: str | None = None
        self._index = VersionIndex()
        # Partitions of one collection are written one at a time, so a reload of the index
        # never interleaves with another partition's write.
        self._lock = asyncio.Lock()

    async def collection(self) -> AsyncCollection[Document]:
        name = await self._collection_name()
        if name != self._name:  # the pointer flipped: what we knew was about another collection
            self._name, self._index = name, VersionIndex()
        return self._db[name]

    async def apply(self, part: Slice) -> int:
        """Write the winners of `part`; returns how many documents changed."""
        async with self._lock:
            coll = await self.collection()
            if self._index.needs_reload(part.partition, part.first_offset):
                await self._index.reload(coll, part.partition, part.first_offset)
            winners = self._winners(part.changes)
            ops: list[WriteOp] = []
            for employee_id, change in winners.items():
                if isinstance(change, Delete):
                    ops.append(DeleteOne({"_id": employee_id}))
                elif employee_id in self._index:
                    ops.append(ReplaceOne({"_id": employee_id}, change.document(), upsert=True))
                else:
                    ops.append(InsertOne(change.document()))
            try:
                await bulk_write_bounded(coll, ops)
            except BaseException:
                self._index.forget()  # some of it may have landed: re-read before deciding
                raise
            self._index.written(
                part.partition,
                part.next_offset,
                {k: None if isinstance(c, Delete) else c.version for k, c in winners.items()},
            )
            return len(ops)

    def _copy_of_seen_event(self, employee_id: str, put: Put) -> bool:
        """Whether `put` repeats an event already seen; remembers it otherwise. A delivery
        re-sent late to another ingest replica may be written again with a later time than
        newer events: taken as new, it would make the status `pending` for good."""
        event_id = str(put.fields.get("event_id") or "")
        if not event_id:
            return False
        seen = event_id in self._index.events(employee_id)
        if seen and not put.fields.get("resent"):
            return True
        put.fields["event_ids"] = list(self._index.saw(employee_id, event_id))
        return False

    def _winners(self, changes: Sequence[Change]) -> dict[str, Change]:
        """Fold the slice per employee, in offset order, against the known versions."""
        winners: dict[str, Change] = {}
        current: dict[str, str | None] = {}
        for change in changes:
            key = change.employee_id
            if isinstance(change, Delete):
                winners[key], current[key] = change, None
                continue
            if self._erased is not None and self._erased(key, time_of(change.version)):
                ERASED_DROPPED.inc()
                continue
            if self._copies and self._copy_of_seen_event(key, change):
                COPIES_DROPPED.inc()
                continue
            stored = current[key] if key in current else self._index.get(key)
            if stored is None or change.version > stored:
                winners[key], current[key] = change, change.version
        return winners

    async def put_if_newer(self, put: Put) -> bool:
        """One guarded upsert, atomic on MongoDB (tools, not the hot path: it scans on
        FerretDB). True if written, False if the stored version is the same or newer."""
        coll = await self.collection()
        try:
            result = await coll.replace_one(
                {"_id": put.employee_id, "version": {"$lt": put.version}},
                put.document(),
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # the document exists with a version >= ours
        self._index.forget()
        return result.modified_count == 1 or result.upserted_id is not None

    async def erase(self, employee_id: str) -> None:
        """Remove the employee's document, whatever its version (erasure)."""
        coll = await self.collection()
        await coll.delete_one({"_id": employee_id})
        self._index.forget()


async def bulk_write_bounded(coll: AsyncCollection[Document], ops: Sequence[WriteOp]) -> None:
    """Unordered bulk write of ops on distinct `_id`s, replaces split into small commands.

    Inserts and deletes go in one bulk (PyMongo sends one command per kind); replaces in
    chunks of `REPLACES_PER_COMMAND`, since larger ones can hang FerretDB (see above)."""
    replaces = [op for op in ops if isinstance(op, ReplaceOne)]
    others = [op for op in ops if not isinstance(op, ReplaceOne)]
    if others:
        await coll.bulk_write(others, ordered=False)
    for start in range(0, len(replaces), REPLACES_PER_COMMAND):
        await coll.bulk_write(replaces[start : start + REPLACES_PER_COMMAND], ordered=False)
