"""Unit tests of the rate limiter and the acceptor, with fakes at their ports."""

from __future__ import annotations

import asyncio

import pytest
from ingest_service.acceptor import Acceptor, Headers, Unavailable
from ingest_service.ratelimit import RateLimiter
from ingest_support import SEED
from onboarding_events import HrUser, HrUserUpserted

USER = HrUser.model_validate(SEED)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate_and_callers_are_separate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=clock)

    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(0.5)
    assert limiter.acquire("b") == 0.0
    clock.now = 0.5
    assert limiter.acquire("a") == 0.0
    assert RateLimiter.retry_after(0.01) == 1


def test_the_table_of_callers_stays_bounded() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1, max_callers=100, clock=Clock())
    for n in range(1000):
        limiter.acquire(f"ip:{n}")

    assert len(limiter._buckets) == 100


class GatedSink:
    """Publishes only once the test opens the gate, like a broker that is down for a while."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.events: list[HrUserUpserted] = []

    async def publish(self, event: HrUserUpserted, headers: Headers) -> None:
        await self.gate.wait()
        self.events.append(event)


async def test_a_retry_after_503_joins_the_publish_in_flight_instead_of_writing_twice() -> None:
    sink = GatedSink()
    acceptor = Acceptor(sink.publish, None, wait_s=0.05)

    with pytest.raises(Unavailable):
        await acceptor.accept(USER, "d1", [])
    with pytest.raises(Unavailable):
        await acceptor.accept(USER, "d1", [])
    sink.gate.set()
    first, again = await asyncio.gather(
        acceptor.accept(USER, "d1", []), acceptor.accept(USER, "d1", [])
    )
    later = await acceptor.accept(USER, "d1", [])

    assert len(sink.events) == 1
    assert first.event.id == again.event.id == later.event.id == sink.events[0].id
    assert first.event.time == later.event.time
    assert later.duplicate
