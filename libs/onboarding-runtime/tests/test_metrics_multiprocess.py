"""Multiprocess metrics: `/metrics` merges every worker's files, a fresh directory per start,
and a worker that is gone leaves the live gauges but not the totals.

The workers here are real processes writing their files as a worker of `serve_workers`
does; ingest-service's test_ingest_metrics_workers.py runs the service itself."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from onboarding_runtime.health import health_router
from onboarding_runtime.metrics import MULTIPROC_DIR_VARIABLE, forget_gone_workers
from onboarding_runtime.serve import metrics_directory
from prometheus_client.parser import text_string_to_metric_families

# One worker: a counter and a live-summed gauge, its pid; then it waits for its stdin to
# close (a worker still running) unless told to end at once (a worker that is gone).
_WORKER = """
import os, sys
from prometheus_client import Counter, Gauge
Counter("onboarding_mp_test_total", "test").inc(int(sys.argv[1]))
Gauge("onboarding_mp_test_live", "test", multiprocess_mode="livesum").set(int(sys.argv[1]))
print(os.getpid(), flush=True)
if sys.argv[2] == "stay":
    sys.stdin.read()
"""


@contextlib.contextmanager
def _worker(directory: str, value: int, *, stay: bool) -> Iterator[int]:
    env = {**os.environ, MULTIPROC_DIR_VARIABLE: directory}
    process = subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(value), "stay" if stay else "go"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        pid = int(process.stdout.readline())
        if not stay:
            process.wait(timeout=60)
        yield pid
    finally:
        process.communicate(timeout=60)  # closes its pipes; a worker still running ends


async def _scrape(directory: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    monkeypatch.setenv(MULTIPROC_DIR_VARIABLE, directory)
    app = FastAPI()
    app.include_router(health_router(dict))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        text = (await client.get("/metrics")).text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("onboarding_mp_test")
    }


async def test_metrics_answers_the_sum_of_every_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        _worker(str(tmp_path), 3, stay=True),
        _worker(str(tmp_path), 4, stay=True),
    ):
        scraped = await _scrape(str(tmp_path), monkeypatch)

    assert scraped == {"onboarding_mp_test_total": 7, "onboarding_mp_test_live": 7}


async def test_a_gone_worker_leaves_the_live_gauges_and_stays_in_the_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        _worker(str(tmp_path), 3, stay=False) as gone,
        _worker(str(tmp_path), 4, stay=True),
    ):
        scraped = await _scrape(str(tmp_path), monkeypatch)
        forgotten = forget_gone_workers(str(tmp_path))

    assert scraped == {"onboarding_mp_test_total": 7, "onboarding_mp_test_live": 4}
    assert forgotten == []  # the scrape forgot the gone worker already: once is enough
    assert gone not in {int(n.split("_")[-1][:-3]) for n in os.listdir(tmp_path) if "live" in n}


def test_each_start_gets_a_fresh_directory_removed_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MULTIPROC_DIR_VARIABLE, "an operator's directory")

    with metrics_directory() as first:
        assert os.environ[MULTIPROC_DIR_VARIABLE] == first
        assert os.listdir(first) == []
        Path(first, "counter_1.db").write_bytes(b"")
    with metrics_directory() as second:
        assert second != first
        assert os.listdir(second) == []

    assert not Path(first).exists()
    assert not Path(second).exists()
    assert os.environ[MULTIPROC_DIR_VARIABLE] == "an operator's directory"
