"""The composition root: settings in, an ASGI app out; the lifespan owns every client.

Tests pass their own `sink` (where events go) and `deliveries` (the index, then not
rebuilt from Kafka); otherwise the lifespan builds the Kafka producer and the index,
which follows the HR topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from onboarding_runtime import tracing
from onboarding_runtime.health import health_router
from onboarding_runtime.kafka import EventProducer, TopicFollower
from onboarding_runtime.pii import Pseudonymizer
from onboarding_runtime.supervision import Supervisor

from ingest_service.acceptor import Acceptor
from ingest_service.auth import Authenticator
from ingest_service.batch import router as batch_router
from ingest_service.delivery_index import DeliveryIndex
from ingest_service.fast_path import IngestApp
from ingest_service.kafka_sink import EventSink, KafkaSink
from ingest_service.ratelimit import RateLimiter
from ingest_service.services import Services
from ingest_service.settings import Settings
from ingest_service.tracing import TraceMiddleware
from ingest_service.webhook import router as webhook_router

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 10.0
INDEX_LOAD_WAIT_S = 10.0


def create_app(
    settings: Settings, *, sink: EventSink | None = None, deliveries: DeliveryIndex | None = None
) -> FastAPI:
    supervisor = Supervisor()
    kafka = settings.kafka_connection()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            event_sink = sink or KafkaSink(
                EventProducer(
                    kafka,
                    timeout_s=settings.kafka_delivery_timeout_s,
                    linger_ms=settings.kafka_linger_ms,
                ),
                settings.hr_topic,
            )
            await event_sink.start()
            stack.push_async_callback(event_sink.stop)
            index = deliveries
            if index is None:
                index = DeliveryIndex(
                    retention_s=settings.idempotency_retention_s,
                    max_entries=settings.idempotency_max_entries,
                )
                follower = TopicFollower(
                    kafka,
                    settings.hr_topic,
                    index.apply,
                    since_s=settings.idempotency_retention_s,
                )
                # Startup waits (bounded) for the index, so a healthy broker means no 503 at
                # start; with the broker down the service starts anyway, not ready.
                await follower.start(timeout_s=INDEX_LOAD_WAIT_S)
                stack.push_async_callback(follower.stop)
                if follower.task is not None:
                    supervisor.watch(follower.task, "delivery-index")
                loaded = asyncio.create_task(_when_loaded(follower, index), name="index-loaded")
                stack.push_async_callback(_cancel, loaded)
            acceptor = Acceptor(event_sink.enqueue, index, wait_s=settings.kafka_publish_timeout_s)
            stack.push_async_callback(acceptor.drain, DRAIN_TIMEOUT_S)
            app.state.sink, app.state.deliveries = event_sink, index
            app.state.services = Services(
                auth=Authenticator(settings.api_keys(), settings.signing_secrets()),
                limiter=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
                acceptor=acceptor,
                pseudonymize=Pseudonymizer(settings.pii_hash_key.get_secret_value().encode()),
                retry_after_s=settings.retry_after_s,
            )
            stack.callback(supervisor.stopping)  # runs first: what stops now is no failure
            yield

    app = IngestApp(
        title="ingest-service",
        version="1.0.0",
        description=(
            "The HR system's door: accepts HR webhooks and writes them durably to Kafka "
            "(`hr.users.v1`, CloudEvents `hr.user.upserted`)."
        ),
        lifespan=lifespan,
        telemetry=tracing.fastapi_telemetry(),
    )
    app.state.settings = settings
    app.state.supervisor = supervisor
    app.add_middleware(TraceMiddleware)
    app.include_router(webhook_router)
    app.include_router(batch_router)
    app.include_router(
        health_router(
            lambda: {
                "kafka": app.state.sink.healthy,
                "deliveries": _index_ready(app),
                "tasks": supervisor.ready,
            },
            causes=(supervisor.causes, kafka.access.causes),
        )
    )
    return app


def _index_ready(app: FastAPI) -> Callable[[], Awaitable[bool]]:
    async def ready() -> bool:
        index: DeliveryIndex = app.state.deliveries
        return index.ready

    return ready


async def _when_loaded(follower: TopicFollower, index: DeliveryIndex) -> None:
    await follower.caught_up.wait()
    index.ready = True
    log.info("delivery index loaded", extra={"deliveries": len(index)})


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
