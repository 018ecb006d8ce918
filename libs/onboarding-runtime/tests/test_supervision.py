"""A background task that ends while the service is not stopping fails the service: not
ready, with the cause (type only) in `/v1/readyz`, and the server stops with status 1."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from onboarding_devstack.polling import eventually, eventually_async
from onboarding_devstack.processes import free_port
from onboarding_runtime.health import health_router
from onboarding_runtime.serve import exit_on_failure, serve
from onboarding_runtime.supervision import Supervisor

SECRET = "jane.doe@example.com"  # a foreign message may quote a record


async def _raises() -> None:
    raise RuntimeError(SECRET)


async def _returns() -> None:
    return None


async def _runs_until_cancelled() -> None:
    await asyncio.Event().wait()


async def failed(supervisor: Supervisor) -> str:
    cause: str = await eventually_async(lambda: supervisor.failure, within=5)
    return cause


async def test_a_task_that_raises_fails_the_service_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []
    supervisor = Supervisor()
    supervisor.on_failure = calls.append  # settable after construction
    assert await supervisor.ready()

    with caplog.at_level(logging.ERROR, logger="onboarding_runtime.supervision"):
        supervisor.watch(asyncio.create_task(_raises()), "consumer")
        assert await failed(supervisor) == "consumer stopped: RuntimeError"
        supervisor.watch(asyncio.create_task(_raises()), "follower")
        await eventually_async(lambda: len(supervisor.causes()) == 2, within=5)

    assert calls == ["consumer stopped: RuntimeError"]  # once, for the first failure
    assert not await supervisor.ready()
    assert supervisor.failure == "consumer stopped: RuntimeError"
    assert supervisor.causes() == {
        "consumer": "consumer stopped: RuntimeError",
        "follower": "follower stopped: RuntimeError",
    }
    first = caplog.records[0]
    assert first.levelno == logging.ERROR
    assert first.exc_info is not None  # the traceback, printed without foreign messages
    assert SECRET not in first.getMessage()


async def test_a_task_that_returns_or_is_cancelled_by_someone_else_fails_it_too() -> None:
    returned, cancelled = Supervisor(), Supervisor()
    returned.watch(asyncio.create_task(_returns()), "consumer")
    cancelled.watch(asyncio.create_task(_runs_until_cancelled()), "consumer").cancel()

    assert await failed(returned) == "consumer stopped: returned"
    assert await failed(cancelled) == "consumer stopped: CancelledError"


async def test_tasks_ending_after_stopping_are_no_failure() -> None:
    calls: list[str] = []
    supervisor = Supervisor(on_failure=calls.append)
    running = supervisor.watch(asyncio.create_task(_runs_until_cancelled()), "consumer")
    raising = asyncio.Event()

    async def raises_when_told() -> None:
        await raising.wait()
        raise RuntimeError(SECRET)

    late = supervisor.watch(asyncio.create_task(raises_when_told()), "follower")

    supervisor.stopping()
    running.cancel()
    raising.set()
    await asyncio.wait({running, late})
    await asyncio.sleep(0)  # done callbacks run on the loop's next turn

    assert supervisor.failure is None
    assert await supervisor.ready()
    assert supervisor.causes() == {}
    assert calls == []


def _health_app(supervisor: Supervisor, *, with_causes: bool = True) -> FastAPI:
    async def database() -> bool:
        return True

    app = FastAPI()
    checks = {"mongodb": database, "tasks": supervisor.ready}
    app.include_router(
        health_router(lambda: checks, causes=(supervisor.causes,))
        if with_causes
        else health_router(lambda: checks)
    )
    return app


async def _readyz(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        return await client.get("/v1/readyz")


async def test_readyz_names_the_cause_of_a_failed_task() -> None:
    supervisor = Supervisor()
    app = _health_app(supervisor)
    ready = await _readyz(app)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})

    supervisor.watch(asyncio.create_task(_raises()), "consumer")
    await failed(supervisor)
    down = await _readyz(app)

    assert down.status_code == 503
    assert down.json() == {
        "status": "unavailable",
        "down": ["tasks"],
        "causes": {"consumer": "consumer stopped: RuntimeError"},
    }
    assert SECRET not in down.text


async def test_readyz_without_causes_answers_as_before() -> None:
    supervisor = Supervisor()
    supervisor.watch(asyncio.create_task(_raises()), "consumer")
    await failed(supervisor)

    down = await _readyz(_health_app(supervisor, with_causes=False))

    assert (down.status_code, down.json()) == (503, {"status": "unavailable", "down": ["tasks"]})


@pytest.fixture
def gc_restored() -> Iterator[None]:
    """`serve` tunes the collector for a server's life: give pytest its own back."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_serve_stops_the_server_and_returns_1_when_a_task_fails(gc_restored: None) -> None:
    supervisor = Supervisor()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        fail = asyncio.Event()
        app.state.fail = fail

        async def consume() -> None:
            await fail.wait()
            raise RuntimeError(SECRET)

        supervisor.watch(asyncio.create_task(consume()), "consumer")
        yield
        supervisor.stopping()

    app = FastAPI(lifespan=lifespan)

    @app.post("/fail")
    async def fail() -> None:
        app.state.fail.set()

    port = free_port()
    status: list[int] = []
    server = threading.Thread(
        target=lambda: status.append(serve(app, host="127.0.0.1", port=port, supervisor=supervisor))
    )
    server.start()
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/docs", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    eventually(up, within=30)
    httpx.post(f"{base}/fail", timeout=5)
    server.join(timeout=30)

    assert not server.is_alive(), "the server went on after the consumer failed"
    assert status == [1]
    assert supervisor.failure == "consumer stopped: RuntimeError"


async def test_a_worker_sends_itself_sigterm_at_the_first_failure() -> None:
    """Under `serve_workers` the worker stops (uvicorn's parent starts a new one)."""
    sent: list[tuple[int, int]] = []
    supervisor = Supervisor()
    exit_on_failure(supervisor, kill=lambda pid, sig: sent.append((pid, sig)))

    supervisor.watch(asyncio.create_task(_raises()), "consumer")
    supervisor.watch(asyncio.create_task(_raises()), "follower")
    await failed(supervisor)
    await eventually_async(lambda: len(supervisor.causes()) == 2, within=5)

    assert sent == [(os.getpid(), signal.SIGTERM)]
