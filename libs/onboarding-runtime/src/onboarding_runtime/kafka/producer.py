"""A durable producer: idempotent, `acks=all`, every send awaited with a bounded wait."""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner, murmur2


class PublishError(Exception):
    """The broker did not acknowledge the record in time; it may or may not be written."""


class EventProducer:
    def __init__(
        self, bootstrap_servers: str, *, timeout_s: float = 5.0, linger_ms: int = 2
    ) -> None:
        """`linger_ms`: how long a record may wait for others to share its produce request."""
        self._bootstrap = bootstrap_servers
        self._timeout_s = timeout_s
        self._linger_ms = linger_ms
        self._producer: AIOKafkaProducer | None = None
        # One start attempt at a time, and none within a second of a failed one: while the
        # broker is down, concurrent publishes fail fast instead of each building a client.
        self._start_lock = asyncio.Lock()
        self._next_start_at = 0.0

    async def start(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=self._linger_ms,
            partitioner=key_partition,
            request_timeout_ms=int(self._timeout_s * 1000),
            retry_backoff_ms=100,
        )
        # Starting needs the broker; a service must come up even while Kafka is down, so a
        # failed start is retried lazily on the next publish.
        try:
            await asyncio.wait_for(producer.start(), timeout=self._timeout_s)
        except (KafkaError, OSError, TimeoutError):
            await producer.stop()
            return
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def _ready(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._start_lock:
            if self._producer is None and time.monotonic() >= self._next_start_at:
                await self.start()
                if self._producer is None:
                    self._next_start_at = time.monotonic() + 1.0
        if self._producer is None:
            raise PublishError("Kafka is unavailable")
        return self._producer

    async def publish(
        self,
        topic: str,
        *,
        key: str,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any:
        """Send and wait for the acknowledgement from all in-sync replicas: its metadata."""
        producer = await self._ready()
        try:
            future = await producer.send(
                topic, value=value, key=key.encode(), headers=headers or []
            )
            return await asyncio.wait_for(future, timeout=self._timeout_s)
        except (KafkaError, TimeoutError, OSError) as exc:
            raise PublishError(f"Kafka did not acknowledge: {type(exc).__name__}") from exc

    async def enqueue(
        self,
        topic: str,
        *,
        key: str,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[None]:
        """Hand the record to the producer and return its acknowledgement.

        The record is sent whether or not anyone waits: a caller that stops waiting (a
        request answered 503) leaves it in flight, and the future still settles, with
        `PublishError` when the broker did not take it within the timeout. No task per
        record: the acknowledgement is the producer's own future, translated.
        """
        producer = await self._ready()
        try:
            sent = await producer.send(topic, value=value, key=key.encode(), headers=headers or [])
        except (KafkaError, OSError) as exc:
            raise PublishError(f"Kafka did not take the record: {type(exc).__name__}") from exc
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sent.add_done_callback(lambda done: _settle(done, acknowledged))
        return acknowledged

    async def healthy(self) -> bool:
        try:
            producer = await self._ready()
            await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout=2.0)
        except (PublishError, KafkaError, TimeoutError, OSError):
            return False
        return True


def _settle(sent: asyncio.Future[Any], acknowledged: asyncio.Future[None]) -> None:
    if acknowledged.done():
        return
    if sent.cancelled():
        acknowledged.set_exception(PublishError("the send was cancelled"))
    elif (exc := sent.exception()) is not None:
        failure = PublishError(f"Kafka did not acknowledge: {type(exc).__name__}")
        failure.__cause__ = exc
        acknowledged.set_exception(failure)
    else:
        acknowledged.set_result(None)


@functools.lru_cache(maxsize=65_536)
def _key_hash(key: bytes) -> int:
    return int(murmur2(key)) & 0x7FFFFFFF


def key_partition(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """The Java client's (and aiokafka's) default partition of a key, same murmur2 and all,
    with the hash remembered per key: aiokafka computes it in pure Python on every send."""
    if key is None:
        return int(DefaultPartitioner()(key, all_partitions, available))
    return all_partitions[_key_hash(key) % len(all_partitions)]
