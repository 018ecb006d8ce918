"""The composition root: Mongo client and projector owned by the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from onboarding_events import USERS_ENRICHED_TOPIC
from onboarding_runtime.health import health_router
from onboarding_runtime.kafka import ConsumerRunner
from onboarding_runtime.kafka.consumer import Record
from onboarding_runtime.mongo import open_mongo, ping

from query_service.projector import project_enriched
from query_service.routes import router as users_router
from query_service.settings import Settings
from query_service.store import MongoUserStore


def create_app(settings: Settings) -> FastAPI:
    client, db = open_mongo(settings.mongodb_url)
    store = MongoUserStore(db)

    async def handle(record: Record) -> None:
        await project_enriched(record, store=store)

    runner = ConsumerRunner(
        name="query-projector",
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.query_group_id,
        topics=[USERS_ENRICHED_TOPIC],
        handler=handle,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(runner.run(), name="query-projector")
        try:
            yield
        finally:
            runner.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await client.close()

    async def mongo_ready() -> bool:
        return await ping(client)

    async def consumer_ready() -> bool:
        return runner.healthy()

    app = FastAPI(title="query-service", version="1.0.0", lifespan=lifespan)
    app.state.store = store
    app.include_router(users_router)
    app.include_router(health_router(lambda: {"mongodb": mongo_ready, "consumer": consumer_ready}))
    return app
