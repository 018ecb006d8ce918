"""The composition root: settings in, a FastAPI app out; the lifespan owns every client.

Tests pass their own `sink` (where events go) or `store` (the dedupe record); otherwise the
lifespan builds the Kafka producer and the MongoDB store from the settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from onboarding_runtime.health import health_router
from onboarding_runtime.kafka import EventProducer
from onboarding_runtime.mongo import open_mongo
from onboarding_runtime.pii import Pseudonymizer

from ingest_service.acceptor import Acceptor
from ingest_service.auth import Authenticator
from ingest_service.deliveries import (
    DeliveryStore,
    MongoDeliveryStore,
    StoreUnavailable,
    utc_now_ms,
)
from ingest_service.kafka_sink import EventSink, KafkaSink
from ingest_service.ratelimit import RateLimiter
from ingest_service.services import Services
from ingest_service.settings import Settings
from ingest_service.tracing import TraceMiddleware
from ingest_service.webhook import router as webhook_router
from ingest_service.webhook import webhook_route

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 600.0
DRAIN_TIMEOUT_S = 10.0


def create_app(
    settings: Settings, *, sink: EventSink | None = None, store: DeliveryStore | None = None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            event_sink = sink or KafkaSink(
                EventProducer(
                    settings.kafka_bootstrap_servers, timeout_s=settings.kafka_delivery_timeout_s
                )
            )
            await event_sink.start()
            stack.push_async_callback(event_sink.stop)
            delivery_store = store
            if delivery_store is None:
                client, database = open_mongo(settings.mongodb_url)
                stack.push_async_callback(client.close)
                mongo_store = MongoDeliveryStore(
                    database[settings.idempotency_collection],
                    retention=timedelta(seconds=settings.idempotency_retention_s),
                    clock=utc_now_ms,
                )
                sweeper = asyncio.create_task(_maintain(mongo_store), name="ingest-sweeper")
                stack.push_async_callback(_cancel, sweeper)
                delivery_store = mongo_store
            acceptor = Acceptor(
                event_sink.publish,
                delivery_store,
                wait_s=settings.kafka_publish_timeout_s,
                store_timeout_s=settings.idempotency_store_timeout_s,
            )
            stack.push_async_callback(acceptor.drain, DRAIN_TIMEOUT_S)
            app.state.sink, app.state.store = event_sink, delivery_store
            app.state.services = Services(
                auth=Authenticator.from_settings(
                    settings.api_key.get_secret_value() if settings.api_key else None,
                    settings.signing_secrets(),
                ),
                limiter=RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst),
                acceptor=acceptor,
                pseudonymize=Pseudonymizer(settings.pii_hash_key.get_secret_value().encode()),
                retry_after_s=settings.retry_after_s,
            )
            yield

    app = FastAPI(
        title="ingest-service",
        version="1.0.0",
        description=(
            "The HR system's door: accepts HR webhooks and writes them durably to Kafka "
            "(`hr.users.v1`, CloudEvents `hr.user.upserted`)."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(TraceMiddleware)
    app.router.routes.append(webhook_route)  # serves the webhook; registered first
    app.include_router(webhook_router)  # documents it
    app.include_router(
        health_router(lambda: {"kafka": app.state.sink.healthy, "database": app.state.store.ready})
    )
    return app


async def _maintain(store: MongoDeliveryStore) -> None:
    """Create the TTL index (retried until the database answers) and sweep expired records."""
    indexed = False
    while True:
        try:
            if not indexed:
                if not await store.setup():
                    log.info("the database has no TTL indexes; expired deliveries are swept")
                indexed = True
            swept = await store.sweep()
            if swept:
                log.info("swept expired delivery records", extra={"count": swept})
        except StoreUnavailable as exc:
            log.warning("delivery store maintenance failed: %r", exc)
        await asyncio.sleep(SWEEP_EVERY_S if indexed else 5.0)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
