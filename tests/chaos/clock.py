"""Time for the ledger run, injectable: wall time for records, monotonic time for budgets."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall time, UTC: what the ledger records and fault windows are given in."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back: for budgets and intervals."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
