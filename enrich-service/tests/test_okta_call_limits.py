"""Every Okta call ends, and waiting for Okta's budget never leaks it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from email.utils import formatdate

import pytest
from enrich_service.okta import OKTA_CALLS, OktaClient
from enrich_service.okta_errors import OktaDown
from enrich_service.okta_http import AiohttpOkta
from enrich_service.okta_ratelimit import RateLimiter
from onboarding_devstack.polling import eventually_async


@contextlib.asynccontextmanager
async def trickling_okta() -> AsyncIterator[str]:
    """An HTTP server that answers 200 with a 1,000-byte body, one byte every 0.2 s."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1000\r\n\r\n["
            )
            await writer.drain()
            for _ in range(999):
                await asyncio.sleep(0.2)  # the server's own pace, not synchronisation
                writer.write(b" ")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


@pytest.mark.timeout(60)  # without a total deadline the body would take 200 s
async def test_an_answer_that_trickles_ends_in_a_timeout_counted_as_okta_down() -> None:
    errors = OKTA_CALLS.labels("listUsers", "error")
    before = errors._value.get()
    async with trickling_okta() as url:
        http = AiohttpOkta(url, headers={}, timeout_s=1.0, connect_timeout_s=1.0, max_connections=2)
        okta = OktaClient(http, max_attempts=2, backoff_max_s=0.01)
        try:
            with pytest.raises(OktaDown):
                await okta.find_user_by_email("a@example.com")
        finally:
            await okta.aclose()
    assert errors._value.get() == before + 2  # both attempts timed out, both counted


def _headers(remaining: int, reset: float, now: float) -> dict[str, str]:
    return {
        "X-Rate-Limit-Limit": "100",
        "X-Rate-Limit-Remaining": str(remaining),
        "X-Rate-Limit-Reset": str(int(reset)),
        "Date": formatdate(now, usegmt=True),
    }


async def test_callers_cancelled_while_paced_give_their_budget_back() -> None:
    now = [1_767_225_600.0]
    asked: list[float] = []
    blocking = True

    async def sleep(seconds: float) -> None:
        asked.append(seconds)
        if blocking:
            await asyncio.Event().wait()  # until cancelled

    limiter = RateLimiter(jitter_s=0, clock=lambda: now[0], sleep=sleep)
    await limiter.acquire("listUsers")
    limiter.release("listUsers", _headers(3, now[0] + 60, now[0]), throttled=False)

    # Three calls fit in the window: the first goes at once, two wait for their slots...
    first = await limiter.acquire("listUsers")
    paced = [asyncio.create_task(limiter.acquire("listUsers")) for _ in range(2)]
    await eventually_async(lambda: len(asked) == 2 or None, within=5)
    # ...and are cancelled there (a rebalance, a shutdown): those calls are never made.
    for task in paced:
        task.cancel()
    await asyncio.gather(*paced, return_exceptions=True)
    assert first is None
    limiter.release("listUsers", _headers(2, now[0] + 60, now[0]), throttled=False)

    # The next window: two calls left, nothing in flight, so neither waits.
    now[0] += 61
    blocking, asked[:] = False, []
    await limiter.acquire("listUsers")
    limiter.release("listUsers", _headers(2, now[0] + 60, now[0]), throttled=False)
    await limiter.acquire("listUsers")
    assert asked == []
