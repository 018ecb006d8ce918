"""The circuit breaker alone: when the next probe may start after failures."""

from __future__ import annotations

import asyncio
import time

from onboarding_runtime.kafka import CircuitBreaker


async def _admitted_after(breaker: CircuitBreaker) -> float:
    started = time.monotonic()
    await asyncio.wait_for(breaker.admit(), timeout=5)
    return time.monotonic() - started


async def test_attempts_in_flight_when_it_opens_do_not_delay_the_first_probe() -> None:
    breaker = CircuitBreaker("t", probe_interval_s=0.2, max_probe_interval_s=10)
    for _ in range(4):  # four records were in flight when the dependency went down
        breaker.unavailable()

    assert breaker.is_open
    assert await _admitted_after(breaker) < 0.6  # one interval, not 0.2 x 2^3


async def test_each_failed_probe_doubles_the_wait_up_to_the_maximum() -> None:
    breaker = CircuitBreaker("t", probe_interval_s=0.1, max_probe_interval_s=0.4)
    breaker.unavailable()
    waits = []
    for _ in range(4):
        waits.append(await _admitted_after(breaker))
        breaker.unavailable(probe=True)

    assert waits[0] < 0.3
    assert 0.15 < waits[1] < 0.5  # 0.2
    assert 0.3 < waits[2] < 0.7  # 0.4
    assert 0.3 < waits[3] < 0.7  # still 0.4: the maximum


async def test_an_answer_closes_it_and_waiting_records_start_at_once() -> None:
    breaker = CircuitBreaker("t", probe_interval_s=30, max_probe_interval_s=30)
    breaker.unavailable()  # the first probe would be 30 s away
    waiting = asyncio.ensure_future(breaker.admit())
    await asyncio.sleep(0.05)
    assert not waiting.done()

    breaker.answered()

    assert await asyncio.wait_for(waiting, timeout=1) is False  # not a probe: closed
    assert not breaker.is_open
