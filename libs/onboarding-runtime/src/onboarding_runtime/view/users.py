"""The `users` view: one document per employee holding the exact response body.

Shape `{"_id", "version", "body", "etag", "event_id", "completed_at"}`. The user is kept as
its JSON text, not a sub-document: FerretDB v1 (SQLite) scans the table on every `_id`
lookup, and a flat document with one string scans 2-3x faster than the nested one
(tests/bench/query_lookup_scaling.py); the API also serves it without re-serialising.
Nothing queries inside a user; other systems read the enriched topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from onboarding_runtime.kafka.consumer import Record
from onboarding_runtime.mongo import Document
from onboarding_runtime.view.pointer import ActiveCollection
from onboarding_runtime.view.records import enriched_change, slice_of
from onboarding_runtime.view.versions import time_of
from onboarding_runtime.view.writer import Erased, VersionedWriter


@dataclass(frozen=True)
class StoredUser:
    body: bytes  # the `GET /v1/users/{id}` response, exactly
    etag: str
    version: str
    event_id: str
    completed_at: datetime | None


def stored_user(doc: Document) -> StoredUser:
    return StoredUser(
        body=str(doc["body"]).encode(),
        etag=str(doc.get("etag", "")),
        version=str(doc.get("version", "")),
        event_id=str(doc.get("event_id", "")),
        completed_at=doc.get("completed_at"),
    )


class UsersView:
    """Reads and writes the live `users` collection (or a fixed one, for a rebuild)."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        pointer: ActiveCollection | None = None,
        collection: str | None = None,
        erased: Erased | None = None,
    ) -> None:
        self._db = db
        self.pointer = pointer or ActiveCollection(db)
        self._erased = erased
        self._writer = VersionedWriter(db, collection or self.pointer.name, erased=erased)
        self._fixed = collection
        # One handle per name: building an `AsyncCollection` per read is measurable at
        # a thousand reads a second, and the live name changes only on a rebuild.
        self._collections: dict[str, AsyncCollection[Document]] = {}

    async def collection_name(self) -> str:
        return self._fixed or await self.pointer.name()

    async def project(self, records: Sequence[Record]) -> int:
        """One partition's `users.enriched.v1` records, in offset order; returns writes."""
        return await self._writer.apply(slice_of(records, enriched_change))

    async def collection(self) -> AsyncCollection[Document]:
        name = await self.collection_name()
        found = self._collections.get(name)
        if found is None:
            found = self._collections[name] = self._db[name]
        return found

    async def get(self, employee_id: str) -> StoredUser | None:
        doc = await (await self.collection()).find_one({"_id": employee_id})
        if doc is None or self._hidden(employee_id, doc):
            return None
        return stored_user(doc)

    def _hidden(self, employee_id: str, doc: Document) -> bool:
        """From before the employee's erasure: whatever wrote it back, it is not shown."""
        return self._erased is not None and self._erased(
            employee_id, time_of(str(doc.get("version", "0")))
        )

    async def erase(self, employee_id: str) -> None:
        await self._writer.erase(employee_id)
