"""The composition root: settings and topic names in, open clients out.

The CLI builds one `Ops` from the environment; tests build theirs with private topic names
and database and pass it in (`CliRunner.invoke(app, ..., obj=ops)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from onboarding_runtime.kafka import EventProducer, KafkaConnection
from onboarding_runtime.mongo import open_mongo
from onboarding_runtime.pii import Pseudonymizer

from onboarding_ops.erasure_log import ErasureLog
from onboarding_ops.kafka_admin import admin_client, ensure_topic
from onboarding_ops.scan import TopicReader
from onboarding_ops.settings import Settings
from onboarding_ops.topics import TopicNames
from onboarding_ops.view import MongoView

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Ops:
    settings: Settings
    topics: TopicNames = field(default_factory=TopicNames)
    # How commands wait (erase's publish fence, rebuild's pointer TTL and projector polls) and
    # tell how long they have waited (monotonic seconds); tests drive their own.
    sleep: Sleep = asyncio.sleep
    clock: Clock = time.monotonic
    # How `import` reaches ingest-service (None: the network); tests hand an httpx.MockTransport.
    ingest_transport: httpx.AsyncBaseTransport | None = None

    @property
    def kafka(self) -> KafkaConnection:
        return self.settings.kafka_connection()

    @property
    def pseudonym(self) -> Pseudonymizer:
        return Pseudonymizer(self.settings.pii_hash_key.get_secret_value().encode())


@dataclass(frozen=True)
class Kafka:
    reader: TopicReader
    producer: EventProducer


@contextlib.asynccontextmanager
async def open_kafka(ops: Ops) -> AsyncIterator[Kafka]:
    """A reader and a producer; the topics only operations write are created if missing."""
    settings = ops.settings
    timeout = settings.ops_connect_timeout_s
    async with admin_client(ops.kafka, timeout) as admin:
        for name in (ops.topics.erasures, ops.topics.redrives):
            await ensure_topic(admin, ops.topics.spec(name), settings.durability)
    reader = TopicReader(ops.kafka, timeout_s=timeout)
    await reader.start()
    producer = EventProducer(ops.kafka, timeout_s=settings.kafka_publish_timeout_s)
    try:
        await producer.start()
        yield Kafka(reader, producer)
    finally:
        await producer.stop()
        await reader.stop()


async def load_erasures(ops: Ops, kafka: Kafka) -> ErasureLog:
    return await ErasureLog.load(kafka.reader, ops.topics.erasures, ops.pseudonym)


@contextlib.asynccontextmanager
async def open_view(ops: Ops) -> AsyncIterator[MongoView]:
    client, db = open_mongo(ops.settings.mongodb_url.get_secret_value())
    try:
        yield MongoView(db, pointer_ttl_s=ops.settings.view_pointer_ttl_s)
    finally:
        await client.close()
