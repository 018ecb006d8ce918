"""What a message handler raises, and so what the consumer runner does next.

Exception
 ├── RetryableError     the same record is tried again after a backoff; dead-lettered after
 │    │                 the policy's attempts, or, with `retry_for`, once that many seconds
 │    │                 have passed since its first failure (e.g. "not created yet")
 │    └── UnavailableError  a dependency is down or refusing us: never the record's fault.
 │         │            The runner pauses consumption (circuit breaker) and retries the record
 │         │            as a probe until the dependency answers; never dead-lettered
 │         └── BrokerUnavailable  Kafka did not acknowledge what the handler published
 ├── PermanentError     the record goes to the dead-letter topic at once (bad data, 4xx)
 └── anything else      treated as retryable until the attempts run out, then dead-lettered

A `HandlerError`'s message is ours and says no more than its code and counts: it may go
into dead-letter headers, the status view and logs. Anything else is foreign (a library's
or a server's text may quote an email, a record or a response body): only its type is
repeated (`failure_text`).
"""

from __future__ import annotations

MAX_MESSAGE = 500


def failure_text(exc: BaseException) -> str:
    """What may be said of `exc` outside the process: our own message, or a foreign
    exception's type alone."""
    if isinstance(exc, HandlerError):
        return str(exc)[:MAX_MESSAGE]
    return f"unexpected {type(exc).__name__}"


class HandlerError(Exception):
    def __init__(self, message: str, *, code: str = "error") -> None:
        super().__init__(message)
        self.code = code


class RetryableError(HandlerError):
    """Try again later; `retry_after` (seconds) overrides the backoff when the cause knows.

    `retry_for` (seconds) replaces the attempt limit by a period: the record is retried on a
    widening schedule until that long after its first failure, then dead-lettered.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "retryable",
        retry_after: float | None = None,
        retry_for: float | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
        self.retry_for = retry_for


class UnavailableError(RetryableError):
    """The dependency cannot serve anyone right now: pause, probe, resume; never dead-letter."""


class PermanentError(HandlerError):
    """Trying again cannot help: dead-letter now."""


class BrokerUnavailable(UnavailableError):
    """Kafka did not take what the handler published in time: the partition waits for the
    broker (back-pressure); the record is not at fault and is never dead-lettered for it."""

    def __init__(self) -> None:
        super().__init__("Kafka did not acknowledge the record in time", code="kafka_unavailable")
