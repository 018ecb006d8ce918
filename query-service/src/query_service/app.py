"""The composition root: the Mongo client, the views and the projector, owned by the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from onboarding_runtime.health import health_router
from onboarding_runtime.kafka import BrokerProbe, ConsumerRunner
from onboarding_runtime.mongo import Document, open_mongo, ping
from onboarding_runtime.view import ActiveCollection, StatusView, UsersView, ensure_view
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from query_service.auth import read_auth
from query_service.projector import build_projector
from query_service.routes import user_read_route, users_router
from query_service.settings import Settings

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2
SHUTDOWN_GRACE_S = 10.0


async def _within(task: asyncio.Task[None], seconds: float, what: str) -> None:
    """Wait for `task` at most `seconds`; a shutdown must not hang on one dependency."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        frames = task.get_stack()
        where = "".join(traceback.format_stack(frames[-1])) if frames else "(no frame)"
        log.warning("shutdown did not wait for %s any longer; it was at:\n%s", what, where)
        return
    with contextlib.suppress(asyncio.CancelledError):
        task.result()


async def run_projection(
    db: AsyncDatabase[Document], pointer: ActiveCollection, runner: ConsumerRunner
) -> None:
    """Collections first (waiting for the database if it is down), then consume."""
    delay = 0.5
    while True:
        try:
            await ensure_view(db, pointer)
            break
        except PyMongoError as exc:
            log.warning("database unavailable at start-up: %s", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
    await runner.run()


def create_app(settings: Settings) -> FastAPI:
    client, db = open_mongo(settings.mongodb_url)
    pointer = ActiveCollection(db, ttl_s=settings.view_pointer_ttl_s)
    broker = BrokerProbe(settings.kafka_bootstrap_servers)
    users = UsersView(db, pointer=pointer)
    status = StatusView(db, users)
    runner = build_projector(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.query_group_id,
        users=users,
        status=status,
        max_batch=settings.projector_max_batch,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(run_projection(db, pointer, runner), name="query-projector")
        try:
            yield
        finally:
            runner.stop()
            task.cancel()
            # Bounded: nothing is committed before its write, so giving up on a stuck
            # projector (e.g. the database went away mid-write) loses nothing.
            await _within(task, SHUTDOWN_GRACE_S, "projector")
            await _within(asyncio.create_task(client.close()), SHUTDOWN_GRACE_S, "mongo close")

    async def mongo_ready() -> bool:
        return await ping(client)

    async def consumer_ready() -> bool:
        return runner.healthy()

    app = FastAPI(
        title="query-service",
        version="1.0.0",
        description="The enriched users and their onboarding status, projected from Kafka.",
        lifespan=lifespan,
    )
    app.state.users = users
    app.state.status = status
    app.state.projector = runner

    @app.exception_handler(PyMongoError)
    async def database_unavailable(request: Request, exc: PyMongoError) -> JSONResponse:
        log.warning("read failed: database unavailable (%s)", type(exc).__name__)
        return JSONResponse(
            {"detail": "Database unavailable"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    require_read_key = read_auth(settings.read_keys())
    app.router.routes.append(user_read_route(users, require_read_key))  # before its APIRoute
    app.include_router(users_router(users, status, require_read_key=require_read_key))
    app.include_router(
        health_router(
            lambda: {"kafka": broker.healthy, "mongodb": mongo_ready, "consumer": consumer_ready}
        )
    )
    return app
