"""Run an ASGI app with uvicorn using our logging, not uvicorn's.

With a `Supervisor`, a background task that fails stops the service: `serve` stops the
server gracefully (the lifespan's shutdown runs) and returns 1 for `__main__` to exit with,
so Kubernetes or compose restarts the process. Under `serve_workers`, each worker process
calls `exit_on_failure(supervisor)`: the worker sends itself SIGTERM, stops the same way,
and uvicorn's parent process starts a new worker in its place.

Metrics with several workers: each worker writes its values to files in a directory of this
start's own (`PROMETHEUS_MULTIPROC_DIR`, made before the first worker and removed when the
service stops), `/metrics` merges them (`health.py`), and before each scrape a worker that
is gone is marked dead there (`metrics.forget_gone_workers`), so its live gauges leave the
merge while its counts stay in the totals.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE

from onboarding_runtime.metrics import MULTIPROC_DIR_VARIABLE
from onboarding_runtime.supervision import Supervisor

# Young objects collected every 10,000 net allocations instead of 700: under load the
# default ran a collection every request or two, promoting in-flight request objects until
# full collections walked the whole heap (~100 ms each): up to a third of a hot path's CPU
# and its p99 spikes (measured on ingest and query).
GC_THRESHOLDS = (10_000, 10, 10)


def tune_gc() -> None:
    """Call once the app is built: what exists now (modules, the app, its schemas) lives as
    long as the process, so it is kept out of every later collection's walk."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve(app: FastAPI, *, host: str, port: int, supervisor: Supervisor | None = None) -> int:
    """One process, until a signal or `supervisor`'s first failure; the exit status: 1 after a
    failure, else 0 (`raise SystemExit(serve(...))`). A start-up failure exits at once with
    uvicorn's status 3, as `uvicorn.run` does."""
    tune_gc()
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    if supervisor is not None:
        supervisor.on_failure = lambda cause: setattr(server, "should_exit", True)
    server.run()
    if supervisor is not None and supervisor.failure is not None:
        return 1
    if not server.started:
        sys.exit(STARTUP_FAILURE)
    return 0


def exit_on_failure(supervisor: Supervisor, *, kill: Callable[[int, int], None] = os.kill) -> None:
    """In a worker of `serve_workers`: at `supervisor`'s first failure the worker sends
    itself SIGTERM, stops gracefully, and uvicorn's parent starts a new one. Call it in the
    app factory; `kill` is for tests."""
    supervisor.on_failure = lambda cause: kill(os.getpid(), signal.SIGTERM)


def serve_workers(factory: str, *, host: str, port: int, workers: int) -> None:
    """`workers` processes sharing the port; `factory` ("module:function") builds the app
    in each of them, and calls `tune_gc` (a worker is a fresh interpreter) and, with a
    supervisor, `exit_on_failure`. One worker is served in this process, as before; more
    share one metrics directory (the module's docstring)."""
    options: dict[str, Any] = {"log_config": None, "access_log": False, "lifespan": "on"}
    if workers == 1:
        uvicorn.run(factory, factory=True, host=host, port=port, **options)
        return
    with metrics_directory():
        uvicorn.run(factory, factory=True, host=host, port=port, workers=workers, **options)


@contextlib.contextmanager
def metrics_directory() -> Iterator[str]:
    """A fresh `PROMETHEUS_MULTIPROC_DIR` for the workers started within (they inherit the
    environment); removed, and the variable restored, at the end. Never one left by an
    earlier start: its files would add old counts to the new totals."""
    directory = tempfile.mkdtemp(prefix="onboarding-metrics-")
    previous = os.environ.get(MULTIPROC_DIR_VARIABLE)
    os.environ[MULTIPROC_DIR_VARIABLE] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_DIR_VARIABLE, None)
        else:
            os.environ[MULTIPROC_DIR_VARIABLE] = previous
        shutil.rmtree(directory, ignore_errors=True)
