"""Which `users` collection is live: a pointer document that readers and writers follow.

FerretDB v1 has no `renameCollection` with `dropTarget` (code 238), so a rebuild cannot swap
collections by renaming. Instead `view_meta` holds `{"_id": "users", "collection": name}`:
a rebuild fills a new collection, then `flip()`s the pointer; API readers and the projector
re-read it at most every `ttl_s` seconds, so within that time everyone follows.

An answer is trusted for `ttl_s` from when it was *asked for*, not from when it came: a
read slowed down by a busy database still answering the old name could otherwise keep it
past `ttl_s` after the flip, and a rebuild (which waits `ttl_s` before its last catch-up and
then drops the old collection) would miss what was written there meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pymongo.asynchronous.database import AsyncDatabase

from onboarding_runtime.mongo import Document

META = "view_meta"
USERS_KEY = "users"
DEFAULT_USERS = "users"


class ActiveCollection:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        key: str = USERS_KEY,
        default: str = DEFAULT_USERS,
        ttl_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._clock = clock
        self._key = key
        self._default = default
        self._ttl_s = ttl_s
        self._name: str | None = None
        self._read_at = 0.0

    async def name(self) -> str:
        """The live collection's name; one tiny read per `ttl_s`, none in between."""
        if self._name is None or self._clock() - self._read_at > self._ttl_s:
            asked_at = self._clock()
            doc = await self._db[META].find_one({"_id": self._key})
            self._name = str(doc["collection"]) if doc else self._default
            self._read_at = asked_at
        return self._name

    async def flip(self, collection: str) -> None:
        """Make `collection` the live one (for everyone within `ttl_s`)."""
        await self._db[META].replace_one(
            {"_id": self._key}, {"_id": self._key, "collection": collection}, upsert=True
        )
        self._name = collection
        self._read_at = self._clock()
