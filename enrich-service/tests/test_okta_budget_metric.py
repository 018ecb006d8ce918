"""`onboarding_okta_rate_limit_remaining{operation}`: the budget Okta says is left, as the
limiter knows it (the smallest `X-Rate-Limit-Remaining` of the window), at the transport."""

from __future__ import annotations

import time
from email.utils import formatdate

import httpx
from enrich_service.okta import OktaClient
from enrich_service.okta_ratelimit import RateLimiter
from prometheus_client import REGISTRY

BASE = "https://acme.okta.example"
USER = {"id": "00u1", "status": "ACTIVE", "profile": {"email": "a@example.com"}}


def _budget(operation: str) -> float | None:
    return REGISTRY.get_sample_value(
        "onboarding_okta_rate_limit_remaining", {"operation": operation}
    )


def _answer(remaining: int, reset: int, now: float) -> httpx.Response:
    headers = {
        "X-Rate-Limit-Limit": "10000",
        "X-Rate-Limit-Remaining": str(remaining),
        "X-Rate-Limit-Reset": str(reset),
        "Date": formatdate(now, usegmt=True),
    }
    return httpx.Response(200, json=[USER], headers=headers)


async def test_the_gauge_is_the_smallest_remaining_of_the_window_then_the_next_windows() -> None:
    now = time.time()
    window = int(now) + 60
    answers = iter(
        [
            _answer(9000, window, now),
            _answer(9500, window, now),  # answered late, from before the 9000: not more budget
            _answer(8000, window, now),
            _answer(9900, window + 60, now),  # the next window
        ]
    )
    seen: list[float | None] = []

    def handle(request: httpx.Request) -> httpx.Response:
        return next(answers)

    okta = OktaClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url=BASE),
        limiter=RateLimiter(jitter_s=0),
    )
    for _ in range(4):
        await okta.find_user_by_email("a@example.com")
        seen.append(_budget("listUsers"))

    assert seen == [9000, 9000, 8000, 9900]
