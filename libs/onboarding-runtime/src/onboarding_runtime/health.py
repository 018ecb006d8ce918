"""`/v1/healthz`, `/v1/readyz` and `/metrics`, the same on every service.

`/metrics` answers for the whole service: in multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`,
set by `serve_workers` for more than one worker) whichever worker takes the request merges
every worker's files, so the totals are the service's, not that worker's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from pydantic import BaseModel, Field

from onboarding_runtime.metrics import forget_gone_workers, multiproc_dir

ReadinessCheck = Callable[[], Awaitable[bool]]
# Why something is down, by name (e.g. `Supervisor.causes`): short texts of our own.
Causes = Callable[[], Mapping[str, str]]


class Alive(BaseModel):
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    status: Literal["ready"] = "ready"


class NotReady(BaseModel):
    status: Literal["unavailable"] = "unavailable"
    down: list[str] = Field(description="The readiness checks that failed, by name")
    causes: dict[str, str] = Field(
        default_factory=dict,
        description="Why a background task stopped, by task name; only when one did",
    )


def health_router(
    checks: Callable[[], Mapping[str, ReadinessCheck]], *, causes: Iterable[Causes] = ()
) -> APIRouter:
    """`checks` is called per request so it can read clients the lifespan opened; `causes`
    too (e.g. the supervisor's and the Kafka access's), and what they name goes into a
    503's body (`causes`), so `/v1/readyz` says why."""
    explain = tuple(causes)
    router = APIRouter(tags=["operations"])
    registry = _registry()

    @router.get("/v1/healthz", summary="The process is alive", response_model=Alive)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/v1/readyz",
        summary="Its Kafka and database connections work",
        response_model=Ready,
        responses={
            503: {
                "model": NotReady,
                "description": "Something it depends on is down, named in `down`; a background "
                "task that stopped is named in `causes` with why (e.g. `consumer stopped: "
                "RecursionError`)",
            }
        },
    )
    async def readyz() -> JSONResponse:
        named = dict(checks())
        results = await asyncio.gather(*(_safe(check) for check in named.values()))
        down = [name for name, ok in zip(named, results, strict=True) if not ok]
        if down:
            body: dict[str, object] = {"status": "unavailable", "down": down}
            why = {name: text for cause in explain for name, text in cause().items()}
            if why:
                body["causes"] = why
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ready"})

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {
                "description": "Prometheus text exposition format",
                "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
            }
        },
    )
    async def metrics() -> Response:
        if (directory := multiproc_dir()) is not None:
            forget_gone_workers(directory)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def _registry() -> CollectorRegistry:
    """This process's metrics, or in multiprocess mode every worker's, merged from their
    files (this registry holds only that collector: the process's own would count twice)."""
    directory = multiproc_dir()
    if directory is None:
        return REGISTRY
    merged = CollectorRegistry()
    MultiProcessCollector(merged, path=directory)  # type: ignore[no-untyped-call]
    return merged


async def _safe(check: ReadinessCheck) -> bool:
    try:
        return await asyncio.wait_for(check(), timeout=3.0)
    except Exception:
        return False
