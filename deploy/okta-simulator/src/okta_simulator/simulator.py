"""The simulator's whole mutable state, built once per app and reset by the control API."""

from __future__ import annotations

from collections import deque
from typing import Annotated, cast

from fastapi import Depends, Request
from pydantic import BaseModel

from okta_simulator.clock import Clock
from okta_simulator.faults import Faults
from okta_simulator.models import Endpoint
from okta_simulator.org import Org
from okta_simulator.ratelimit import RateLimiter
from okta_simulator.seed import demo_org
from okta_simulator.settings import Settings

REQUEST_LOG_SIZE = 10_000


class RequestRecord(BaseModel):
    method: str
    path: str
    query: dict[str, str]
    query_string: str
    time: str
    endpoint: Endpoint | None
    status: int | None = None  # None while the request is still being answered


class Simulator:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        """Back to the seed: demo org, configured limits and latency, no faults, empty log."""
        settings = self.settings
        self.org: Org = demo_org(self.clock())
        self.limiter = RateLimiter(settings.rate_limits, settings.rate_limit_window_seconds)
        self.faults = Faults(settings.latency_ms)
        self.groups_page_size = settings.groups_page_size
        self.requests: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_SIZE)


async def get_simulator(request: Request) -> Simulator:
    # `async`: FastAPI runs a plain `def` dependency in a worker thread, on every request.
    return cast(Simulator, request.app.state.simulator)


SimulatorDep = Annotated[Simulator, Depends(get_simulator)]
