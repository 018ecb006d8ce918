"""Concurrent single inserts coalesced into one `insert_many(ordered=False)`.

Every accepted delivery writes small documents; under load, one round trip (and, on
FerretDB's SQLite backend, one transaction) for all the inserts waiting is what keeps the
database off the request's critical path. No timer: while a batch is in flight the next
one gathers, so a lone insert goes out at once.
"""

from __future__ import annotations

import asyncio

from onboarding_runtime.mongo import Document
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

DUPLICATE_KEY = 11000


class InsertBatcher:
    def __init__(self, collection: AsyncCollection[Document], *, max_batch: int = 500) -> None:
        self._collection = collection
        self._max_batch = max_batch
        self._pending: list[tuple[Document, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def insert(self, document: Document) -> bool:
        """True when inserted, False when a document with its `_id` exists; raises PyMongoError."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((document, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="delivery-inserts")
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            await self._write(batch)

    async def _write(self, batch: list[tuple[Document, asyncio.Future[bool]]]) -> None:
        failed: dict[int, PyMongoError] = {}
        duplicates: set[int] = set()
        try:
            await self._collection.insert_many([doc for doc, _ in batch], ordered=False)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                if error.get("code") == DUPLICATE_KEY:
                    duplicates.add(error["index"])
                else:
                    failed[error["index"]] = OperationFailure(error.get("errmsg", "write error"))
        except PyMongoError as exc:
            failed = dict.fromkeys(range(len(batch)), exc)
        for index, (_, future) in enumerate(batch):
            if future.done():  # the caller stopped waiting
                continue
            if index in failed:
                future.set_exception(failed[index])
            else:
                future.set_result(index not in duplicates)
