"""The `users` collection: one document per employee, guarded by the HR event's version.

A write carries the version of the HR event it came from; it only lands when that version
is newer than the stored one, so duplicates, replays and late arrivals never regress state.
"""

from __future__ import annotations

from typing import Any, Protocol

from onboarding_runtime.mongo import Document
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

USERS = "users"


def version_of(time_micros: int, offset: int) -> str:
    """A string that sorts like (time, offset): comparable with `$lt` on any MongoDB."""
    return f"{time_micros:020d}.{offset:020d}"


class UserStore(Protocol):
    async def get(self, employee_id: str) -> dict[str, Any] | None: ...
    async def upsert(self, employee_id: str, user: dict[str, Any], version: str) -> bool: ...
    async def delete(self, employee_id: str) -> None: ...


class MongoUserStore:
    def __init__(self, db: AsyncDatabase[Document], collection: str = USERS) -> None:
        self._users: AsyncCollection[Document] = db[collection]

    async def get(self, employee_id: str) -> dict[str, Any] | None:
        doc = await self._users.find_one({"_id": employee_id}, {"user": 1})
        return None if doc is None else dict(doc["user"])

    async def upsert(self, employee_id: str, user: dict[str, Any], version: str) -> bool:
        """True if written; False if the stored version is the same or newer."""
        try:
            result = await self._users.update_one(
                {"_id": employee_id, "version": {"$lt": version}},
                {"$set": {"user": user, "version": version}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # the document exists with a version >= ours
        return result.modified_count == 1 or result.upserted_id is not None

    async def delete(self, employee_id: str) -> None:
        await self._users.delete_one({"_id": employee_id})
