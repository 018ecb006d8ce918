"""Foreign error text never leaves the process: dead-letter headers and logs say the type."""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass, field

import pytest
from onboarding_events import HrUser
from onboarding_runtime.kafka.attempts import Attempts, Outcome
from onboarding_runtime.kafka.breaker import CircuitBreaker
from onboarding_runtime.kafka.errors import PermanentError
from onboarding_runtime.kafka.lanes import Lane, Record
from onboarding_runtime.kafka.retry import Failure, RetryPolicy
from onboarding_runtime.logging import JsonFormatter, TextFormatter
from pydantic import ValidationError

EMAIL = "jane.doe@example.com"


@dataclass(frozen=True)
class _Record:
    topic: str = "hr.users.v1"
    partition: int = 0
    offset: int = 7
    timestamp: int = 0
    key: bytes | None = b"12345"
    value: bytes | None = b"{}"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def _pydantic_error() -> ValidationError:
    try:
        HrUser.model_validate({"employee_id": "1", "email": f"{EMAIL} nope"})
    except ValidationError as exc:
        return exc
    raise AssertionError("expected a validation error")


async def _dead_letter_of(error: Exception) -> Failure:
    letters: list[Failure] = []

    async def dead_letter(record: Record, failure: Failure) -> None:
        letters.append(failure)

    async def handler(record: Record) -> None:
        raise error

    attempts = Attempts(
        "test", RetryPolicy(max_attempts=1), dead_letter, CircuitBreaker("t"), asyncio.Semaphore(1)
    )
    lane = Lane()
    lane.queue.append(_Record())
    outcome = await attempts.run(lane.take(), handler, lane)
    assert outcome is Outcome.DEAD_LETTERED
    return letters[0]


@pytest.mark.parametrize(
    "error", [_pydantic_error(), ValueError(f"no user {EMAIL}"), KeyError(EMAIL)]
)
async def test_a_foreign_failure_is_dead_lettered_with_its_type_only(error: Exception) -> None:
    failure = await _dead_letter_of(error)
    assert EMAIL not in failure.message
    assert failure.message == f"unexpected {type(error).__name__}"
    assert failure.code == type(error).__name__


async def test_our_own_failure_keeps_its_message() -> None:
    failure = await _dead_letter_of(PermanentError("invalid HR event: 2 errors", code="invalid"))
    assert (failure.code, failure.message) == ("invalid", "invalid HR event: 2 errors")


@pytest.mark.parametrize("formatter", [JsonFormatter("svc"), TextFormatter("svc")])
def test_a_logged_traceback_keeps_the_frames_and_drops_foreign_messages(
    formatter: logging.Formatter,
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    log = logging.getLogger("test.failure_text")
    log.addHandler(handler)
    log.propagate = False
    try:
        try:
            try:
                raise _pydantic_error()
            except ValidationError as exc:
                raise RuntimeError(f"while handling {EMAIL}") from exc
        except RuntimeError:
            log.exception("record failed")
    finally:
        log.removeHandler(handler)
    written = stream.getvalue()
    assert EMAIL not in written
    assert "ValidationError" in written
    assert "RuntimeError" in written
    assert "test_failure_text.py" in written  # where it happened is kept
