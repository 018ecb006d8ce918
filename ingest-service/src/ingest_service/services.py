"""What the webhook route needs, built once by the lifespan and kept on `app.state`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from onboarding_runtime.pii import Pseudonymizer

from ingest_service.acceptor import Acceptor
from ingest_service.auth import Authenticator
from ingest_service.ratelimit import RateLimiter


@dataclass(frozen=True)
class Services:
    auth: Authenticator
    limiter: RateLimiter
    acceptor: Acceptor
    pseudonymize: Pseudonymizer
    retry_after_s: int
    # What time it is (Unix seconds): the day a record is validated against.
    clock: Callable[[], float] = time.time

    def today(self) -> date:
        """The UTC date now."""
        return datetime.fromtimestamp(self.clock(), UTC).date()
