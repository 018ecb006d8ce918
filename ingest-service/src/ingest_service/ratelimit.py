"""A token bucket per caller, in this process's memory.

Each ingest process limits on its own: with N replicas a caller gets up to N times the
rate. That is enough to stop one noisy sender from starving the others here; a shared
limit would need a shared store on the hot path. Buckets of callers not seen for a while
are dropped, so the table stays bounded whatever addresses arrive.

A token is a record: a webhook takes one, a batch one per record, all or none. So the
burst must hold a whole batch (`Settings` refuses a smaller one).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        max_callers: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._max_callers = max_callers
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def acquire(self, caller: str, tokens: int = 1) -> float:
        """Take `tokens` (at most the burst): 0.0 when allowed, else the seconds until that
        many are free; nothing is taken then."""
        now = self._clock()
        bucket = self._buckets.pop(caller, None)
        if bucket is None:
            bucket = _Bucket(self._burst, now)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self._burst, bucket.tokens + elapsed * self._rate)
            bucket.updated = now
        self._buckets[caller] = bucket  # most recently used last
        if len(self._buckets) > self._max_callers:
            self._buckets.popitem(last=False)
        if bucket.tokens >= tokens:
            bucket.tokens -= tokens
            return 0.0
        return (tokens - bucket.tokens) / self._rate

    @staticmethod
    def retry_after(wait_s: float) -> int:
        """Whole seconds for the `Retry-After` header, at least 1."""
        return max(1, math.ceil(wait_s))
