"""What the webhook route needs, built once by the lifespan and kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

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
