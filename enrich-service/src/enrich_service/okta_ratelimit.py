"""Okta's rate limits, read from its own headers and respected before they bite.

Okta counts calls per endpoint in windows and reports, on every response,
`X-Rate-Limit-Limit`, `-Remaining` and `-Reset` (the epoch second the window ends, on
Okta's clock: compared with Okta's `Date`, never ours). Per endpoint we keep the smallest
`Remaining` seen in the current window, count our calls in flight against it, and pace
what is left evenly over the time to the reset, so the budget lasts the window instead of
running out early. Nothing left, or a `429`: wait until the reset plus jitter.

A call is counted in flight from the moment its slot is reserved: a caller cancelled while
it waits for that slot (a rebalance, a shutdown) gives it back, or every cancellation would
shrink the budget for the life of the process.

Low-priority callers (the preview) ask `short_of` first: they go only while more than a
share of the window's limit is left, and otherwise are told how long until it resets.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from prometheus_client import Gauge

# Okta's own count, per operation (our name for an endpoint): the smallest
# `X-Rate-Limit-Remaining` answered in the current window. With several processes sharing
# the org's budget, the smallest any of them saw.
OKTA_BUDGET = Gauge(
    "onboarding_okta_rate_limit_remaining",
    "Calls Okta says are left in the current rate-limit window (X-Rate-Limit-Remaining)",
    ["operation"],
    multiprocess_mode="livemin",
)


@dataclass
class _Bucket:
    window: int | None = None  # Okta's X-Rate-Limit-Reset of the window we know about
    limit: int = 0  # Okta's X-Rate-Limit-Limit of that window
    remaining: int = 0
    reset_at: float = 0.0  # that reset on our clock
    blocked_until: float = 0.0  # after a 429: nobody calls this endpoint before this
    in_flight: int = 0
    next_slot: float = 0.0


@dataclass(frozen=True)
class RateHeaders:
    limit: int
    remaining: int
    reset: int  # epoch seconds, Okta's clock
    okta_now: float | None  # Okta's `Date`

    @classmethod
    def parse(cls, headers: Mapping[str, str]) -> RateHeaders | None:
        try:
            limit = int(headers["X-Rate-Limit-Limit"])
            remaining = int(headers["X-Rate-Limit-Remaining"])
            reset = int(headers["X-Rate-Limit-Reset"])
        except (KeyError, ValueError):
            return None
        date = headers.get("Date")
        return cls(limit, remaining, reset, _epoch(date) if date else None)

    def reset_in(self, local_now: float) -> float:
        """Seconds to the reset, measured on Okta's clock when it sent one."""
        return self.reset - (self.okta_now if self.okta_now is not None else local_now)


@functools.lru_cache(maxsize=16)  # `Date` has whole seconds: many answers share one
def _epoch(date: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None


class RateLimiter:
    def __init__(
        self,
        *,
        jitter_s: float = 0.3,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._jitter_s = jitter_s
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}

    async def acquire(self, endpoint: str) -> None:
        """Wait until a call to `endpoint` fits in Okta's budget; count it as in flight."""
        bucket = self._buckets.setdefault(endpoint, _Bucket())
        while True:
            now = self._clock()
            if now < bucket.blocked_until:
                await self._sleep(bucket.blocked_until - now + random.uniform(0, self._jitter_s))
                continue
            if bucket.window is not None and now >= bucket.reset_at:
                bucket.window = None  # that window is over; the next answer tells the new one
            if bucket.window is None:
                break
            budget = bucket.remaining - bucket.in_flight
            if budget <= 0:
                await self._sleep(bucket.reset_at - now + random.uniform(0, self._jitter_s))
                continue
            # Spread what is left over the time left; slots are reserved, so no re-check.
            slot = max(now, bucket.next_slot)
            bucket.next_slot = slot + (bucket.reset_at - now) / budget
            bucket.in_flight += 1
            if slot > now:
                try:
                    await self._sleep(slot - now)
                except BaseException:  # cancelled while paced: this call will not be made
                    bucket.in_flight = max(0, bucket.in_flight - 1)
                    raise
            return
        bucket.in_flight += 1

    def short_of(self, endpoint: str, reserve: float) -> float:
        """0 while what is left of Okta's budget for `endpoint` (calls in flight counted as
        spent) is something, and at least `reserve` (a share) of the window's limit; else
        the seconds until the window resets, or a `429`'s wait ends. A window not known yet
        (no answer in it so far) is not short: its first answer tells."""
        bucket = self._buckets.get(endpoint)
        if bucket is None:
            return 0.0
        now = self._clock()
        if now < bucket.blocked_until:
            return bucket.blocked_until - now
        if bucket.window is None or now >= bucket.reset_at:
            return 0.0
        budget = bucket.remaining - bucket.in_flight
        if budget <= 0 or budget < reserve * bucket.limit:
            return bucket.reset_at - now
        return 0.0

    def release(self, endpoint: str, headers: Mapping[str, str] | None, *, throttled: bool) -> None:
        """Learn from the answer (None: no answer) and stop counting the call as in flight."""
        bucket = self._buckets.setdefault(endpoint, _Bucket())
        bucket.in_flight = max(0, bucket.in_flight - 1)
        rate = RateHeaders.parse(headers) if headers is not None else None
        if rate is None:
            return
        now = self._clock()
        reset_at = now + max(0.0, rate.reset_in(now))
        if throttled:
            bucket.blocked_until = max(bucket.blocked_until, reset_at)
        if bucket.window != rate.reset:
            if bucket.window is not None and rate.reset < bucket.window:
                return  # a late answer from the previous window
            bucket.window, bucket.remaining, bucket.reset_at = rate.reset, rate.remaining, reset_at
            bucket.limit = rate.limit
            bucket.next_slot = now
        else:
            bucket.remaining = min(bucket.remaining, rate.remaining)
            # `Date` has whole seconds: each answer bounds the reset from above; keep the best.
            bucket.reset_at = min(bucket.reset_at, reset_at)
        OKTA_BUDGET.labels(endpoint).set(bucket.remaining)
