"""How long to wait before the next attempt, and what a dead letter says about the failure."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Failure:
    """Why a record is dead-lettered; becomes the dead-letter record's headers."""

    code: str
    message: str
    attempts: int
    first_failure: datetime
    last_failure: datetime


@dataclass(frozen=True)
class RetryPolicy:
    """`max_attempts=None` retries forever: right when there is no dead-letter topic."""

    max_attempts: int | None = 5
    base_delay_s: float = 0.2
    max_delay_s: float = 30.0

    def delay(
        self, attempt: int, hint: float | None = None, *, ceiling: float | None = None
    ) -> float:
        """Exponential backoff with full jitter; `hint` (the cause knows best) wins.

        `ceiling` lets a long retry period (an hour) space its attempts wider than the
        policy's `max_delay_s` would.
        """
        if hint is not None:
            return hint + random.uniform(0, 0.5)
        top = max(self.max_delay_s, ceiling or 0.0)
        upper = min(top, self.base_delay_s * 2 ** min(attempt - 1, 30))
        return random.uniform(upper / 2, upper)  # jitter so retries don't align
