"""Scripted trouble: added latency, and faults armed for the next N calls.

A fault answers instead of the org (`429`, `500`, `503`), or holds the request for
`hang_seconds` before answering normally (`timeout`: longer than any client's timeout).
Faults fire in the order they were armed; one without `endpoint` matches every Okta call.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from okta_simulator.errors import OktaError, rate_limited, server_error, unavailable
from okta_simulator.models import Endpoint
from okta_simulator.ratelimit import RateLimitState

FaultKind = Literal["429", "500", "503", "timeout"]


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: FaultKind
    count: int = Field(default=1, ge=1)
    endpoint: Endpoint | None = None  # None: any of the four operations
    hang_seconds: float = Field(default=60.0, gt=0)  # `timeout` only
    reset_after_seconds: int = Field(default=1, ge=0)  # `429` only: X-Rate-Limit-Reset


class LatencySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ms: int = Field(ge=0)
    endpoint: Endpoint | None = None  # None: the default for every operation


class Faults:
    def __init__(self, latency_ms: int = 0) -> None:
        self._armed: list[FaultSpec] = []
        self._latency_ms = latency_ms
        self._endpoint_latency_ms: dict[Endpoint, int] = {}

    def arm(self, spec: FaultSpec) -> None:
        self._armed.append(spec.model_copy())

    def pending(self) -> list[FaultSpec]:
        return [spec.model_copy() for spec in self._armed]

    def clear(self) -> None:
        self._armed.clear()

    def take(self, endpoint: Endpoint) -> FaultSpec | None:
        """The fault this call suffers, if any; counts it against its `count`."""
        for index, spec in enumerate(self._armed):
            if spec.endpoint in (None, endpoint):
                if spec.count == 1:
                    del self._armed[index]
                else:
                    self._armed[index] = spec.model_copy(update={"count": spec.count - 1})
                return spec
        return None

    def set_latency(self, spec: LatencySpec) -> None:
        if spec.endpoint is None:
            self._latency_ms = spec.ms
        else:
            self._endpoint_latency_ms[spec.endpoint] = spec.ms

    def latency_seconds(self, endpoint: Endpoint) -> float:
        return self._endpoint_latency_ms.get(endpoint, self._latency_ms) / 1000

    def latency(self) -> dict[str, int]:
        latency = {"default": self._latency_ms}
        latency.update({str(name): ms for name, ms in self._endpoint_latency_ms.items()})
        return latency


def fault_error(spec: FaultSpec) -> OktaError:
    errors = {"429": rate_limited, "500": server_error, "503": unavailable}
    return errors[spec.kind]()


def throttled_state(spec: FaultSpec, limit: int, now: float) -> RateLimitState:
    """The rate-limit headers a scripted 429 carries: nothing left until shortly after now."""
    return RateLimitState(limit, 0, math.ceil(now) + spec.reset_after_seconds, allowed=False)
