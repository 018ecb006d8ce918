"""Readiness during the run: a background probe of `/v1/readyz`, and what it says per fault.

`ReadinessProbe` asks every given URL every `every_s` and records (time, url, status, down
list); no answer is status None. For a fault window (name, start, end) the orchestrator
gives, `unready_seconds` says how long the given URLs were not ready during it (a 503, or
no answer, counted apart) and `time_to_recover` how long after its end every URL was ready
again. Between two samples of a URL its state is the earlier sample's.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol

import httpx

from tests.chaos.clock import Clock, SystemClock


@dataclass(frozen=True)
class ReadinessSample:
    at: datetime
    url: str
    status: int | None  # None: no answer (refused, timed out, dropped)
    down: tuple[str, ...]  # the checks a 503 named

    @property
    def ready(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class FaultWindow:
    name: str
    start: datetime
    end: datetime


class EpochWindow(Protocol):
    """A fault window in epoch seconds (`started`, `ended`), as a fault injector keeps it."""

    @property
    def name(self) -> str: ...

    @property
    def started(self) -> float: ...

    @property
    def ended(self) -> float: ...


def as_window(window: FaultWindow | EpochWindow) -> FaultWindow:
    if isinstance(window, FaultWindow):
        return window
    start = datetime.fromtimestamp(window.started, UTC)
    return FaultWindow(window.name, start, datetime.fromtimestamp(window.ended, UTC))


class ReadinessProbe:
    def __init__(
        self,
        client: httpx.AsyncClient,
        urls: Sequence[str],
        *,
        every_s: float = 0.5,
        timeout_s: float = 2.0,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self._urls = list(urls)
        self._every_s = every_s
        self._timeout_s = timeout_s
        self._clock = clock or SystemClock()
        self._task: asyncio.Task[None] | None = None
        self.samples: list[ReadinessSample] = []

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="readiness-probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> ReadinessProbe:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def sample_once(self) -> list[ReadinessSample]:
        """One round over every URL, recorded (the background loop calls this)."""
        found = list(await asyncio.gather(*(self._sample(url) for url in self._urls)))
        self.samples.extend(found)
        return found

    async def _run(self) -> None:
        while True:
            began = self._clock.monotonic()
            await self.sample_once()
            await self._clock.sleep(max(0.0, self._every_s - (self._clock.monotonic() - began)))

    async def _sample(self, url: str) -> ReadinessSample:
        at = self._clock.now()
        try:
            response = await self._client.get(url, timeout=self._timeout_s)
        except httpx.HTTPError:
            return ReadinessSample(at, url, None, ())
        return ReadinessSample(at, url, response.status_code, _down(response))


def _down(response: httpx.Response) -> tuple[str, ...]:
    if response.status_code == 200:
        return ()
    try:
        down = response.json().get("down", [])
    except (ValueError, AttributeError):
        return ()
    return tuple(str(d) for d in down) if isinstance(down, list) else ()


@dataclass(frozen=True)
class Unready:
    answered_503_s: float  # a URL answered 503 (at least one of them)
    no_answer_s: float  # a URL did not answer (and none answered 503)


def unready_seconds(
    samples: Iterable[ReadinessSample], urls: Iterable[str], start: datetime, end: datetime
) -> Unready:
    """Within [start, end]: how long at least one of `urls` was not ready."""
    wanted = set(urls)
    per_url = _by_url(s for s in samples if s.url in wanted)
    cuts = sorted(
        {start, end, *(s.at for ss in per_url.values() for s in ss if start < s.at < end)}
    )
    busy = silent = 0.0
    for left, right in itertools.pairwise(cuts):
        states = [_state_at(ss, left) for ss in per_url.values()]
        seconds = (right - left).total_seconds()
        if any(s is not None and s.status == 503 for s in states):
            busy += seconds
        elif any(s is not None and s.status is None for s in states):
            silent += seconds
    return Unready(busy, silent)


def time_to_recover(
    samples: Iterable[ReadinessSample], urls: Iterable[str], end: datetime
) -> float | None:
    """Seconds from `end` until every URL's latest sample is ready; None if never seen."""
    wanted = set(urls)
    per_url = _by_url(s for s in samples if s.url in wanted)
    if not per_url or wanted - set(per_url):
        return None
    moments = [end, *sorted({s.at for ss in per_url.values() for s in ss if s.at > end})]
    for moment in moments:
        states = [_state_at(ss, moment) for ss in per_url.values()]
        if all(s is not None and s.ready for s in states):
            return (moment - end).total_seconds()
    return None


def _by_url(samples: Iterable[ReadinessSample]) -> dict[str, list[ReadinessSample]]:
    found: dict[str, list[ReadinessSample]] = {}
    for sample in samples:
        found.setdefault(sample.url, []).append(sample)
    for series in found.values():
        series.sort(key=lambda s: s.at)
    return found


def _state_at(series: list[ReadinessSample], moment: datetime) -> ReadinessSample | None:
    """The latest sample at or before `moment` (None before the first); `series` is sorted."""
    index = bisect.bisect_right(series, moment, key=lambda s: s.at)
    return series[index - 1] if index else None


def said_unready(
    samples: Iterable[ReadinessSample],
    names: Mapping[str, str],
    start: datetime,
    end: datetime,
) -> tuple[str, ...]:
    """Within [start, end]: each service replica (`names`: URL -> name) that answered 503,
    with the checks its answers named, e.g. `query-service-1: mongodb`."""
    down: dict[str, set[str]] = {}
    for sample in samples:
        if sample.status == 503 and start <= sample.at <= end and sample.url in names:
            down.setdefault(names[sample.url], set()).update(sample.down)
    return tuple(
        f"{name}: {'+'.join(sorted(checks)) or '?'}" for name, checks in sorted(down.items())
    )
