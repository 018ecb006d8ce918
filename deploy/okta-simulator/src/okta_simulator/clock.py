"""Time as the simulator sees it: epoch seconds from a `Clock`.

Production uses `time.time`; tests drive a `ManualClock` by hand, so a user who "appears
after 30 seconds" or a rate-limit window that resets can be tested without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable

Clock = Callable[[], float]


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
