"""What a message handler raises, and so what the consumer runner does next.

Exception
 ├── RetryableError   the same record is tried again after a backoff (broker, Okta, DB down)
 ├── PermanentError   the record goes to the dead-letter topic at once (bad data, 4xx)
 └── anything else    treated as retryable until the attempts run out, then dead-lettered
"""

from __future__ import annotations


class HandlerError(Exception):
    def __init__(self, message: str, *, code: str = "error") -> None:
        super().__init__(message)
        self.code = code


class RetryableError(HandlerError):
    """Try again later; `retry_after` (seconds) overrides the backoff when the cause knows."""

    def __init__(self, message: str, *, code: str = "retryable", retry_after: float | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PermanentError(HandlerError):
    """Trying again cannot help: dead-letter now."""
