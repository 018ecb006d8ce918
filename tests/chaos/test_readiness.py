"""Readiness samples: the probe at the transport, and what they say about a fault window."""

from __future__ import annotations

from datetime import timedelta

import httpx
from onboarding_devstack.polling import eventually_async

from tests.chaos.fakes import T0
from tests.chaos.readiness import (
    ReadinessProbe,
    ReadinessSample,
    Unready,
    time_to_recover,
    unready_seconds,
)

A, B, Q = "http://ingest-a/v1/readyz", "http://ingest-b/v1/readyz", "http://query/v1/readyz"


def _s(url: str, seconds: float, status: int | None) -> ReadinessSample:
    down = ("kafka",) if status == 503 else ()
    return ReadinessSample(T0 + timedelta(seconds=seconds), url, status, down)


# ingest-a answers 503 from 1 s to 3 s; ingest-b does not answer from 2 s to 4 s;
# query is unready from 2 s to 6 s.
SAMPLES = [
    _s(A, 0, 200),
    _s(A, 1, 503),
    _s(A, 3, 200),
    _s(A, 5, 200),
    _s(B, 0, 200),
    _s(B, 2, None),
    _s(B, 4, 200),
    _s(Q, 0, 200),
    _s(Q, 2, 503),
    _s(Q, 6, 200),
]


def test_unready_seconds_of_ingest_during_a_window() -> None:
    whole = unready_seconds(SAMPLES, [A, B], T0, T0 + timedelta(seconds=5))
    clipped = unready_seconds(
        SAMPLES, [A, B], T0 + timedelta(seconds=1.5), T0 + timedelta(seconds=2.5)
    )

    assert whole == Unready(answered_503_s=2.0, no_answer_s=1.0)
    assert clipped == Unready(answered_503_s=1.0, no_answer_s=0.0)


def test_unready_seconds_of_a_quiet_window_are_zero() -> None:
    assert unready_seconds(
        SAMPLES, [A, B], T0 + timedelta(seconds=4), T0 + timedelta(seconds=5)
    ) == (Unready(0.0, 0.0))


def test_time_to_recover_waits_for_every_service() -> None:
    end = T0 + timedelta(seconds=2)

    assert time_to_recover(SAMPLES, [A, B], end) == 2.0
    assert time_to_recover(SAMPLES, [A, B, Q], end) == 4.0
    assert time_to_recover(SAMPLES, [A], T0 + timedelta(seconds=4)) == 0.0


def test_never_ready_again_is_none() -> None:
    stuck = [s for s in SAMPLES if (s.url, s.status) != (Q, 200) or s.at == T0]

    assert time_to_recover(stuck, [A, Q], T0 + timedelta(seconds=2)) is None
    assert time_to_recover(SAMPLES, [A, "http://never-sampled"], T0) is None


async def test_the_probe_records_status_and_down_list_in_the_background() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "ingest-a":
            return httpx.Response(503, json={"status": "unavailable", "down": ["kafka"]})
        if request.url.host == "ingest-b":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"status": "ready"})

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client,
        ReadinessProbe(client, [A, B, Q], every_s=0.01) as probe,
    ):
        await eventually_async(lambda: len(probe.samples) >= 9 or None, within=10)

    by_url = {s.url: (s.status, s.down) for s in probe.samples}
    assert by_url == {A: (503, ("kafka",)), B: (None, ()), Q: (200, ())}
    assert [s.at for s in probe.samples] == sorted(s.at for s in probe.samples)
