"""Helpers for the ingest tests: the app in-process on the real broker, reading a topic back."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from asgi_lifespan import LifespanManager
from ingest_service.acceptor import Headers
from ingest_service.app import create_app
from ingest_service.delivery_index import DeliveryIndex
from ingest_service.kafka_sink import EventSink
from ingest_service.settings import Settings
from onboarding_devstack.polling import eventually_async
from onboarding_events import HR_RECORD_EXAMPLE, HrUserUpserted
from standardwebhooks import Webhook

SEED: dict[str, Any] = dict(HR_RECORD_EXAMPLE)
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()


def make_settings(**overrides: Any) -> Settings:
    # Every field that matters explicit, so variables in the environment change nothing.
    fields: dict[str, Any] = {
        "environment": "test",
        "api_key": None,
        "webhook_secret": None,
        "kafka_publish_timeout_s": 5.0,
        "kafka_delivery_timeout_s": 30.0,
        "rate_limit_per_s": 1000.0,
        "rate_limit_burst": 1000,
        "log_format": "text",
    }
    fields.update(overrides)
    return Settings(**fields)


def variant(settings: Settings, **overrides: Any) -> Settings:
    """`settings` with some fields changed, validated again."""
    return make_settings(**{**settings.model_dump(), **overrides})


@dataclass
class Replica:
    client: httpx.AsyncClient
    deliveries: DeliveryIndex  # what this instance knows was accepted


@asynccontextmanager
async def replica(
    settings: Settings, topic: str, *, sink: EventSink | None = None
) -> AsyncIterator[Replica]:
    """The app with its lifespan, writing to `topic` on the real broker (through `sink`, when
    given), once it is ready."""
    app = create_app(variant(settings, hr_topic=topic), sink=sink)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            await eventually_async(lambda: _ready(client), within=30)
            yield Replica(client, app.state.deliveries)


@asynccontextmanager
async def running(
    settings: Settings, topic: str, *, sink: EventSink | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    async with replica(settings, topic, sink=sink) as instance:
        yield instance.client


async def _ready(client: httpx.AsyncClient) -> bool | None:
    return (await client.get("/v1/readyz")).status_code == 200 or None


class MemorySink:
    """A fake at the `EventSink` port: every event is acknowledged at once."""

    def __init__(self) -> None:
        self.events: list[HrUserUpserted] = []

    async def start(self) -> None: ...
    async def stop(self) -> None: ...

    def enqueue(self, key: str, value: bytes, headers: Headers) -> asyncio.Future[None]:
        self.events.append(HrUserUpserted.from_json(value))
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acknowledged.set_result(None)
        return acknowledged

    async def healthy(self) -> bool:
        return True


def loaded_index() -> DeliveryIndex:
    index = DeliveryIndex(retention_s=3600, max_entries=10_000)
    index.ready = True
    return index


def signed(
    body: bytes, msg_id: str, *, secret: str = SECRET, at: float | None = None
) -> dict[str, str]:
    stamp = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    signature = Webhook(secret).sign(msg_id, stamp, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    expect: int,
    within: float = 20.0,
    settle: float = 1.0,
    partitions: int | None = None,
) -> list[Any]:
    """Every record of `topic` from the start: waits for `expect`, then `settle` s for extras.
    Of partition 0 only, unless the consumer knows the topic or `partitions` says how many."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        numbers = range(partitions) if partitions else consumer.partitions_for_topic(topic) or {0}
        partitions_read = [TopicPartition(topic, p) for p in numbers]
        consumer.assign(partitions_read)
        await consumer.seek_to_beginning(*partitions_read)
        records: list[Any] = []
        deadline = time.monotonic() + within
        extra_until: float | None = None
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
            now = time.monotonic()
            if len(records) >= expect and extra_until is None:
                extra_until = now + settle
            if (extra_until is not None and now >= extra_until) or now > deadline:
                return records
    finally:
        await consumer.stop()
