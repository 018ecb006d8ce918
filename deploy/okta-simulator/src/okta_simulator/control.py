"""The control API under `/_sim/`: shape the org and the trouble for tests and demos.

These paths are not Okta's and need no token; they are for the machine the simulator runs on.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from okta_simulator.faults import FaultSpec, LatencySpec
from okta_simulator.models import ENDPOINTS, Endpoint
from okta_simulator.org import UserSpec
from okta_simulator.simulator import RequestRecord, SimulatorDep
from okta_simulator.views import user_view

router = APIRouter(prefix="/_sim", tags=["simulator control"])


class RateLimitSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint: Endpoint
    limit: int = Field(ge=0)
    window_seconds: int | None = Field(default=None, ge=1)


class RateLimit(BaseModel):
    endpoint: Endpoint
    limit: int
    window_seconds: int


class PageSizeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    size: int = Field(ge=1, le=10_000)


@router.post("/reset", status_code=status.HTTP_204_NO_CONTENT)
async def reset(sim: SimulatorDep) -> None:
    """Back to the demo org and the configured settings; faults and the log are cleared."""
    sim.reset()


@router.put("/users")
async def put_user(spec: UserSpec, request: Request, sim: SimulatorDep) -> Response:
    """Add the user (201) or replace the one with the same id or login (200)."""
    record, added = sim.org.put_user(spec, sim.clock())
    base = str(request.base_url).rstrip("/")
    body = user_view(record, sim.org, base, full=True).model_dump(mode="json")
    return JSONResponse(body, status_code=201 if added else 200)


@router.delete("/users/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(user_id: str, sim: SimulatorDep) -> None:
    if not sim.org.remove_user(user_id):
        raise HTTPException(status_code=404, detail="User not found")


@router.put("/latency")
async def set_latency(spec: LatencySpec, sim: SimulatorDep) -> dict[str, int]:
    """Delay every call (no `endpoint`) or one operation's calls by `ms` milliseconds."""
    sim.faults.set_latency(spec)
    return sim.faults.latency()


@router.get("/rate-limits")
async def get_rate_limits(sim: SimulatorDep) -> list[RateLimit]:
    limits = sim.limiter.limits()
    return [
        RateLimit(endpoint=name, limit=limits[name][0], window_seconds=limits[name][1])
        for name in ENDPOINTS
        if name in limits
    ]


@router.put("/rate-limits")
async def set_rate_limit(spec: RateLimitSpec, sim: SimulatorDep) -> list[RateLimit]:
    """Set one operation's limit; its count starts again in a fresh window."""
    sim.limiter.configure(spec.endpoint, spec.limit, spec.window_seconds)
    return await get_rate_limits(sim)


@router.put("/groups-page-size")
async def set_groups_page_size(spec: PageSizeSpec, sim: SimulatorDep) -> PageSizeSpec:
    """The page size listUserGroups uses when the caller sends no `limit`."""
    sim.groups_page_size = spec.size
    return spec


@router.get("/faults")
async def pending_faults(sim: SimulatorDep) -> list[FaultSpec]:
    return sim.faults.pending()


@router.post("/faults")
async def arm_fault(spec: FaultSpec, sim: SimulatorDep) -> list[FaultSpec]:
    """The next `count` matching calls fail with `kind`, after any faults armed before."""
    sim.faults.arm(spec)
    return sim.faults.pending()


@router.delete("/faults", status_code=status.HTTP_204_NO_CONTENT)
async def clear_faults(sim: SimulatorDep) -> None:
    sim.faults.clear()


@router.get("/requests")
async def requests(sim: SimulatorDep, endpoint: Endpoint | None = None) -> list[RequestRecord]:
    """Calls received, oldest first (the last 10,000)."""
    return [r for r in sim.requests if endpoint is None or r.endpoint == endpoint]


@router.delete("/requests", status_code=status.HTTP_204_NO_CONTENT)
async def clear_requests(sim: SimulatorDep) -> None:
    sim.requests.clear()
