"""`onboarding_consumer_paused{consumer}`: the breaker's state, 0 closed and 1 open, exported
from the moment the breaker exists (a dashboard then shows a closed breaker, not no data)."""

from __future__ import annotations

from onboarding_runtime.kafka import CircuitBreaker
from prometheus_client import REGISTRY


def _state(consumer: str) -> float | None:
    return REGISTRY.get_sample_value("onboarding_consumer_paused", {"consumer": consumer})


async def test_the_gauge_follows_the_breaker_from_its_start() -> None:
    breaker = CircuitBreaker("breaker-state-test", probe_interval_s=30)
    assert _state("breaker-state-test") == 0

    breaker.unavailable()
    assert _state("breaker-state-test") == 1

    breaker.unavailable(probe=True)  # a failed probe: still open
    assert _state("breaker-state-test") == 1

    breaker.answered()
    assert _state("breaker-state-test") == 0
