"""Send many records fast without reordering any one employee's events.

Records are buffered in windows; within a window each key's records go out one after
another (each awaited: acks from all in-sync replicas) while different keys go out
concurrently. Leaving the `async with` flushes the last window; an error propagates after
the window in flight has settled, so the summary never counts a record not acknowledged.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from types import TracebackType

from onboarding_runtime.kafka import EventProducer

WINDOW = 500

Headers = list[tuple[str, bytes]]


class Republisher:
    def __init__(self, producer: EventProducer, topic: str, *, window: int = WINDOW) -> None:
        self._producer = producer
        self._topic = topic
        self._window = window
        self._pending: list[tuple[bytes | None, bytes | None, Headers]] = []

    async def __aenter__(self) -> Republisher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.flush()

    async def send(self, key: bytes | None, value: bytes | None, headers: Headers) -> None:
        self._pending.append((key, value, headers))
        if len(self._pending) >= self._window:
            await self.flush()

    async def flush(self) -> None:
        by_key: dict[bytes | None, list[tuple[bytes | None, Headers]]] = defaultdict(list)
        for key, value, headers in self._pending:
            by_key[key].append((value, headers))
        self._pending = []
        results = await asyncio.gather(
            *(self._send_in_order(key, items) for key, items in by_key.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _send_in_order(
        self, key: bytes | None, items: list[tuple[bytes | None, Headers]]
    ) -> None:
        text_key = (key or b"").decode("utf-8", "replace")
        for value, headers in items:
            await self._producer.publish(self._topic, key=text_key, value=value, headers=headers)
