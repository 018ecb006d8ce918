"""The composition root: settings in, a FastAPI app out; the lifespan owns the producer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from onboarding_runtime.health import health_router
from onboarding_runtime.kafka import EventProducer

from ingest_service.settings import Settings
from ingest_service.webhook import router as webhook_router


def create_app(settings: Settings, producer: EventProducer | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal producer
        owned = producer is None
        if producer is None:
            producer = EventProducer(
                settings.kafka_bootstrap_servers, timeout_s=settings.kafka_publish_timeout_s
            )
        await producer.start()
        app.state.producer = producer
        try:
            yield
        finally:
            if owned:
                await producer.stop()

    app = FastAPI(
        title="ingest-service",
        version="1.0.0",
        description="Accepts HR webhooks and writes them durably to Kafka.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(webhook_router)
    app.include_router(health_router(lambda: {"kafka": app.state.producer.healthy}))
    return app
