"""`/metrics` of ingest with two workers answers for the service, whichever worker takes it.

The service runs as in production (its console script, `INGEST_WORKERS=2`, one port) on the
session broker. Webhooks go on fresh connections until both workers have accepted some
(each worker's own count is read from its file in the metrics directory); then every answer
of `/metrics` must count all the 202s, and the directory is gone once the service stopped.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_devstack.processes import Managed, free_port, start, stop
from onboarding_events import HR_RECORD_EXAMPLE
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration

SERVICE = str(Path(sys.executable).parent / "ingest-service")
API_KEY = "metrics-workers-key"
ROUND = 16  # webhooks sent at once, each on its own connection


def _accepted_by_worker(directory: Path) -> dict[str, float]:
    """Each worker's own count of 202s, from its file (named for its pid)."""
    counts: dict[str, float] = {}
    for path in directory.glob("counter_*.db"):
        for metric in MultiProcessCollector.merge([str(path)]):
            for sample in metric.samples:
                if sample.name == "ingest_webhooks_total" and sample.labels == {"status": "202"}:
                    counts[path.stem] = sample.value
    return counts


async def _scraped_accepted(base: str) -> float:
    async with httpx.AsyncClient() as client:  # a new connection: any worker may answer
        text = (await client.get(f"{base}/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "ingest_webhooks_total" and sample.labels == {"status": "202"}
    )


async def _ready(base: str) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{base}/v1/readyz")).status_code == 200
    except httpx.TransportError:
        return False


async def test_metrics_count_the_webhooks_of_every_worker(
    kafka_bootstrap: str, hr_topic: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    temporary = tmp_path / "tmp"  # where the service makes its metrics directory
    temporary.mkdir()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "HR_TOPIC": hr_topic,
        "INGEST_PORT": str(port),
        "INGEST_WORKERS": "2",
        "ENVIRONMENT": "test",
        "LOG_FORMAT": "text",
        "API_KEY": API_KEY,
        "RATE_LIMIT_PER_S": "10000",
        "RATE_LIMIT_BURST": "10000",
        "TMPDIR": str(temporary),
    }
    service = Managed("ingest-two-workers", tmp_path / "run")
    start(service, [SERVICE], env=env, record_exit=True)
    statuses: list[int] = []
    # No connection kept: every webhook is a new connection, which either worker accepts.
    limits = httpx.Limits(max_keepalive_connections=0)
    try:
        await eventually(lambda: _ready(base), within=90, every=0.5)
        (directory,) = temporary.glob("onboarding-metrics-*")
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

            async def post() -> int:
                tag = uuid.uuid4().hex[:10]
                record = HR_RECORD_EXAMPLE | {
                    "employee_id": f"mw-{tag}",
                    "email": f"mw.{tag}@example.com",
                }
                response = await client.post(
                    "/v1/hr/webhook", json=record, headers={"X-API-Key": API_KEY}
                )
                return response.status_code

            async def a_round_until_both_workers_accepted() -> bool:
                statuses.extend(await asyncio.gather(*(post() for _ in range(ROUND))))
                busy = [n for n in _accepted_by_worker(directory).values() if n > 0]
                return len(busy) == 2

            await eventually(a_round_until_both_workers_accepted, within=60, every=0)

        accepted = statuses.count(202)
        assert accepted > 0
        assert sum(_accepted_by_worker(directory).values()) == accepted
        for _ in range(8):  # whichever worker answers
            assert await _scraped_accepted(base) == accepted
    finally:
        stop(service)
    assert service.exit_status() == 0, service.exit_report()
    assert not directory.exists()
