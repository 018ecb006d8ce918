"""The composition root: `create_app(settings)` wires the state, the edge and the routers."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from okta_simulator import api, control
from okta_simulator.clock import Clock
from okta_simulator.edge import OktaEdge
from okta_simulator.errors import OktaError, error_response, method_not_allowed, page_not_found
from okta_simulator.settings import Settings
from okta_simulator.simulator import Simulator


async def _okta_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, OktaError)
    return error_response(error)


async def _http_error(request: Request, error: Exception) -> Response:
    """Unknown paths and methods under /api/ answer as Okta does; elsewhere, as FastAPI does."""
    assert isinstance(error, StarletteHTTPException)
    if request.url.path.startswith("/api/") and error.status_code in (404, 405):
        missing = error.status_code == 404
        return error_response(page_not_found(request.url.path) if missing else method_not_allowed())
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


def create_app(settings: Settings, *, clock: Clock = time.time) -> FastAPI:
    simulator = Simulator(settings, clock)
    app = FastAPI(
        title="Okta simulator",
        summary="Okta's users, groups and appLinks API, imitated; control API under /_sim/",
        docs_url="/_sim/docs",
        redoc_url=None,
        openapi_url="/_sim/openapi.json",
    )
    app.state.simulator = simulator
    app.include_router(api.router)
    app.include_router(control.router)
    app.add_exception_handler(OktaError, _okta_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(OktaEdge, simulator=simulator)

    @app.get("/v1/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
