"""A circuit breaker around the handler's dependency: pause consumption while it is down.

Closed: records start freely. A handler raising `UnavailableError` opens it: no record
starts any more, except one probe every `probe_interval_s` (doubling with each failed probe,
up to `max_probe_interval_s`). The first attempt that does not fail with `UnavailableError`
closes it and everything waiting starts again. Nothing is dead-lettered meanwhile: the
outage is the dependency's, not the records'.

Only a failed probe widens the interval. The attempts already in flight when the breaker
opened fail too, but they tell nothing new: if each of them doubled it, four in flight
would push the first probe from 2 s to 30 s, and the consumer would stay paused half a
minute after the dependency came back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from prometheus_client import Gauge

# The breaker's state: 0 closed, 1 open. Exported from the breaker's start, so a dashboard
# shows a closed breaker as 0 rather than no data; with several processes, open if any is.
CONSUMER_PAUSED = Gauge(
    "onboarding_consumer_paused",
    "Circuit breaker state: 1 while a consumer's dependency is down and consumption is "
    "paused (open), 0 while closed",
    ["consumer"],
    multiprocess_mode="livemax",
)

log = logging.getLogger(__name__)


class CircuitBreaker:
    def __init__(
        self, name: str, *, probe_interval_s: float = 2.0, max_probe_interval_s: float = 30.0
    ) -> None:
        self._name = name
        self._base = probe_interval_s
        self._max = max_probe_interval_s
        self._interval = probe_interval_s
        self._next_probe = 0.0
        self._closed = asyncio.Event()
        self._closed.set()
        self._state = CONSUMER_PAUSED.labels(name)
        self._state.set(0)

    @property
    def is_open(self) -> bool:
        return not self._closed.is_set()

    def next_probe_in(self) -> float:
        """Seconds until the next probe may start (0 while closed, or when one is due): for
        others who would ask the dependency, when asking is worth it."""
        if self._closed.is_set():
            return 0.0
        return max(0.0, self._next_probe - time.monotonic())

    async def admit(self) -> bool:
        """Return when a record may start: at once while closed (False), else as the next
        probe (True)."""
        while not self._closed.is_set():
            now = time.monotonic()
            if now >= self._next_probe:
                self._next_probe = now + self._interval  # one probe per interval
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self._next_probe - now)
        return False

    def unavailable(self, *, probe: bool = False) -> None:
        """An attempt found the dependency down; `probe` when `admit` let it in as one."""
        now = time.monotonic()
        if self._closed.is_set():
            self._closed.clear()
            self._interval = self._base
            log.warning(
                "dependency unavailable: consumption paused", extra={"consumer": self._name}
            )
            self._state.set(1)
        elif probe:
            self._interval = min(self._interval * 2, self._max)
        else:
            return  # started before the breaker opened: the next probe stays where it is
        self._next_probe = max(self._next_probe, now + self._interval)

    def answered(self) -> None:
        if not self._closed.is_set():
            log.info(
                "dependency answers again: consumption resumed", extra={"consumer": self._name}
            )
            self._state.set(0)
            self._closed.set()
