"""Okta-style rate limits: a fixed window per endpoint, reported in `X-Rate-Limit-*` headers.

Windows are aligned on multiples of their length (minutes, by default), so
`X-Rate-Limit-Reset` is the epoch second at which the current window ends, as with Okta.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from okta_simulator.models import Endpoint


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset: int  # epoch seconds
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(self.remaining),
            "X-Rate-Limit-Reset": str(self.reset),
        }


@dataclass
class _Bucket:
    limit: int
    window_seconds: int
    window_start: float = -1.0
    used: int = 0

    def roll(self, now: float) -> None:
        start = math.floor(now / self.window_seconds) * self.window_seconds
        if start != self.window_start:
            self.window_start, self.used = start, 0

    def state(self, allowed: bool) -> RateLimitState:
        reset = int(self.window_start + self.window_seconds)
        return RateLimitState(self.limit, max(self.limit - self.used, 0), reset, allowed)


class RateLimiter:
    def __init__(self, limits: Mapping[Endpoint, int], window_seconds: int) -> None:
        self._buckets = {name: _Bucket(limit, window_seconds) for name, limit in limits.items()}
        self._default_window = window_seconds

    def configure(self, endpoint: Endpoint, limit: int, window_seconds: int | None = None) -> None:
        """Set a new limit; the endpoint's count starts again in a fresh window."""
        self._buckets[endpoint] = _Bucket(limit, window_seconds or self._default_window)

    def limits(self) -> dict[Endpoint, tuple[int, int]]:
        return {name: (b.limit, b.window_seconds) for name, b in self._buckets.items()}

    def hit(self, endpoint: Endpoint, now: float) -> RateLimitState:
        """Count one request; `allowed` is False once the window's limit is used up."""
        bucket = self._bucket(endpoint, now)
        if bucket.used >= bucket.limit:
            return bucket.state(allowed=False)
        bucket.used += 1
        return bucket.state(allowed=True)

    def peek(self, endpoint: Endpoint, now: float) -> RateLimitState:
        return self._bucket(endpoint, now).state(allowed=True)

    def _bucket(self, endpoint: Endpoint, now: float) -> _Bucket:
        bucket = self._buckets.setdefault(endpoint, _Bucket(1200, self._default_window))
        bucket.roll(now)
        return bucket
