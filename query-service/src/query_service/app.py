"""The composition root: the Mongo client, the views and the projector, owned by the lifespan."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from onboarding_runtime import tracing
from onboarding_runtime.erasures import ErasureWatch
from onboarding_runtime.health import health_router
from onboarding_runtime.http_metrics import RequestMetrics
from onboarding_runtime.kafka import BrokerProbe, ConsumerRunner
from onboarding_runtime.mongo import Document, open_mongo, ping
from onboarding_runtime.pii import Pseudonymizer
from onboarding_runtime.supervision import Supervisor
from onboarding_runtime.view import ActiveCollection, StatusView, UsersView, ensure_view
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from query_service.auth import read_auth
from query_service.projector import build_projector
from query_service.routes import user_read_route, users_router
from query_service.settings import Settings

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2
# How long start-up waits for the erasure log before serving (not ready) while it loads.
ERASURES_WAIT_S = 10.0
SHUTDOWN_GRACE_S = 10.0


async def _within(task: asyncio.Task[None], seconds: float, what: str) -> None:
    """Wait for `task` at most `seconds`; a shutdown must not hang on one dependency."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        frames = task.get_stack()
        where = "".join(traceback.format_stack(frames[-1])) if frames else "(no frame)"
        log.warning("shutdown did not wait for %s any longer; it was at:\n%s", what, where)
        return
    if not task.cancelled():
        task.exception()  # a failure was reported when it happened (`Supervisor`)


async def run_projection(
    db: AsyncDatabase[Document],
    pointer: ActiveCollection,
    runner: ConsumerRunner,
    erasures_loaded: asyncio.Event,
) -> None:
    """Collections first (waiting for the database if it is down), then, once the erasure
    log is loaded (however long that takes), consume."""
    delay = 0.5
    while True:
        try:
            await ensure_view(db, pointer)
            break
        except PyMongoError as exc:
            log.warning("database unavailable at start-up: %s", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
    await erasures_loaded.wait()
    await runner.run()


def create_app(settings: Settings) -> FastAPI:
    client, db = open_mongo(settings.mongodb_url.get_secret_value())
    pointer = ActiveCollection(db, ttl_s=settings.view_pointer_ttl_s)
    kafka = settings.kafka_connection()
    broker = BrokerProbe(kafka)
    pseudonymize = Pseudonymizer(settings.pii_hash_key.get_secret_value().encode())
    erasures = ErasureWatch(kafka, pseudonymize)
    erased = erasures.erasures.covers
    supervisor = Supervisor()
    users = UsersView(db, pointer=pointer, erased=erased)
    status = StatusView(db, users, erased=erased)
    runner = build_projector(
        kafka=kafka,
        group_id=settings.query_group_id,
        users=users,
        status=status,
        max_batch=settings.projector_max_batch,
        sync_erasures=erasures.sync,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await erasures.start(timeout_s=ERASURES_WAIT_S)
        task = asyncio.create_task(
            run_projection(db, pointer, runner, erasures.caught_up), name="query-projector"
        )
        supervisor.watch(task, "projector")
        if erasures.task is not None:
            supervisor.watch(erasures.task, "erasures")
        try:
            yield
        finally:
            supervisor.stopping()
            runner.stop()
            task.cancel()
            # Bounded: nothing is committed before its write, so giving up on a stuck
            # projector (e.g. the database went away mid-write) loses nothing.
            await _within(task, SHUTDOWN_GRACE_S, "projector")
            await _within(asyncio.create_task(client.close()), SHUTDOWN_GRACE_S, "mongo close")
            await erasures.stop()

    async def mongo_ready() -> bool:
        return await ping(client)

    async def consumer_ready() -> bool:
        return runner.healthy()

    async def erasures_ready() -> bool:
        return erasures.caught_up.is_set()

    app = FastAPI(
        title="query-service",
        version="1.0.0",
        description="The enriched users and their onboarding status, projected from Kafka.",
        lifespan=lifespan,
        telemetry=tracing.fastapi_telemetry(),
    )
    app.state.users = users
    app.state.status = status
    app.state.projector = runner
    app.state.supervisor = supervisor
    # Every request, the hot read included, counted and timed by route template and status.
    app.add_middleware(RequestMetrics, routes=app.routes)

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
            lambda: {
                "kafka": broker.healthy,
                "mongodb": mongo_ready,
                "erasures": erasures_ready,
                "consumer": consumer_ready,
                "tasks": supervisor.ready,
            },
            causes=(supervisor.causes, kafka.access.causes),
        )
    )
    return app
