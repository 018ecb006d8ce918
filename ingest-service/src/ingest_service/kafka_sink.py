"""Where accepted events go: the HR topic, keyed by employee id, through the shared producer."""

from __future__ import annotations

import asyncio
from typing import Protocol

from onboarding_runtime.kafka import EventProducer

from ingest_service.acceptor import Headers


class EventSink(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def enqueue(self, key: str, value: bytes, headers: Headers) -> asyncio.Future[None]: ...
    async def healthy(self) -> bool: ...


class KafkaSink:
    def __init__(self, producer: EventProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    def enqueue(self, key: str, value: bytes, headers: Headers) -> asyncio.Future[None]:
        """The future settles once all in-sync replicas have the record; raises `PublishError`."""
        return self._producer.enqueue(self._topic, key=key, value=value, headers=headers)

    async def healthy(self) -> bool:
        return await self._producer.healthy()
