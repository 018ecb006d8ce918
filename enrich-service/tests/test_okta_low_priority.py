"""The preview's Okta calls (`OktaClient.low_priority`) leave Okta's budget to enrichment:
at the transport, with Okta's rate-limit headers and a clock of the test's."""

from __future__ import annotations

import asyncio
from email.utils import formatdate

import httpx
import pytest
from enrich_service.okta import OktaClient
from enrich_service.okta_errors import OktaBusy, OktaDown
from enrich_service.okta_ratelimit import RateLimiter

BASE = "https://acme.okta.example"
NOW = 1_767_225_600.0
RESET = int(NOW) + 60
USER = {"id": "00u1", "status": "ACTIVE", "profile": {"email": "a@example.com"}}


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)  # pacing is not what is tested here


def _okta(answers: list[httpx.Response]) -> tuple[OktaClient, list[httpx.Request]]:
    """A client whose Okta gives `answers` in turn; the requests it received."""
    received: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return answers.pop(0)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url=BASE)
    limiter = RateLimiter(jitter_s=0, clock=lambda: NOW, sleep=_no_wait)
    return OktaClient(http, limiter=limiter, backoff_max_s=0.01), received


def _answer(remaining: int, *, status: int = 200) -> httpx.Response:
    headers = {
        "X-Rate-Limit-Limit": "100",
        "X-Rate-Limit-Remaining": str(remaining),
        "X-Rate-Limit-Reset": str(RESET),
        "Date": formatdate(NOW, usegmt=True),
    }
    if status == 429:
        return httpx.Response(429, json={"errorCode": "E0000047"}, headers=headers)
    return httpx.Response(status, json=[USER], headers=headers)


async def test_previews_stop_below_the_reserve_while_enrichment_goes_on() -> None:
    okta, received = _okta([_answer(30), _answer(25), _answer(24), _answer(23)])
    preview = okta.low_priority(reserve=0.25)

    await preview.find_user_by_email("a@example.com")  # 30 of 100 left after it
    await preview.find_user_by_email("a@example.com")  # 25 left: the reserve, not below it
    await preview.find_user_by_email("a@example.com")  # 24 left
    with pytest.raises(OktaBusy) as refused:
        await preview.find_user_by_email("a@example.com")
    assert len(received) == 3  # the fourth was never sent
    assert refused.value.retry_after == RESET - NOW  # until Okta's window resets

    await okta.find_user_by_email("a@example.com")  # enrichment has the 24
    assert len(received) == 4


async def test_a_preview_waits_out_no_429_and_retries_no_5xx() -> None:
    okta, received = _okta([_answer(50, status=429)])
    preview = okta.low_priority(reserve=0.25)

    with pytest.raises(OktaBusy) as refused:
        await preview.find_user_by_email("a@example.com")
    assert refused.value.retry_after == RESET - NOW
    assert len(received) == 1  # not tried again after the 429

    # A fresh window: one 503 is Okta down for a preview (enrichment would back off).
    okta, received = _okta([_answer(50, status=503)])
    with pytest.raises(OktaDown):
        await okta.low_priority(reserve=0.25).find_user_by_email("a@example.com")
    assert len(received) == 1
