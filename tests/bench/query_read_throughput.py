"""`GET /v1/users/{id}` against a raw PyMongo `find_one` loop, 10k users, concurrency 64.

Run: `uv run python -m tests.bench.query_read_throughput`. The query-service runs as a real
uvicorn process on a private FerretDB and broker; the load generator is this process.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from onboarding_events import EnrichedUser
from onboarding_runtime.mongo import open_mongo
from onboarding_runtime.view import Put, Slice, VersionedWriter, version_of

from tests.bench.query_infra import bench_infra, with_database

USERS = 10_000
CONCURRENCY = 64
SECONDS = 15.0


def ids() -> list[str]:
    return [f"b{i:06d}" for i in range(USERS)]


async def load(url: str) -> None:
    client, db = open_mongo(url)
    writer = VersionedWriter(db, "users")
    now = datetime.now(UTC)
    puts = []
    for n, employee_id in enumerate(ids()):
        user = EnrichedUser(
            id=employee_id,
            name=f"First{n} Last{n}",
            email=f"u{n}@example.com",
            title="Engineer",
            department="Engineering",
            startDate="2024-01-15",
            groups=["Everyone", "Engineering"],
            applications=["Slack", "Jira"],
            onboarded=True,
        )
        body = user.model_dump_json()
        puts.append(Put(employee_id, version_of(now, n), {"body": body, "etag": f'"{n}"'}))
    for start in range(0, USERS, 1000):
        await writer.apply(Slice(("bench", 0), start, start + 1000, puts[start : start + 1000]))
    await client.close()


async def hammer(call: Callable[[str], Awaitable[None]]) -> tuple[float, float, float]:
    """Throughput (req/s), p50 and p99 (ms) of `call` at CONCURRENCY for SECONDS."""
    keys = ids()
    latencies: list[float] = []
    deadline = time.monotonic() + SECONDS

    async def worker() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            await call(random.choice(keys))
            latencies.append(time.perf_counter() - started)

    began = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.monotonic() - began
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    return len(latencies) / elapsed, p50, p99


async def raw(url: str) -> tuple[float, float, float]:
    client, db = open_mongo(url)
    users = db["users"]

    async def find(employee_id: str) -> None:
        assert await users.find_one({"_id": employee_id}) is not None

    try:
        return await hammer(find)
    finally:
        await client.close()


async def api(base: str) -> tuple[float, float, float]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def get(employee_id: str) -> None:
            response = await client.get(f"/v1/users/{employee_id}")
            assert response.status_code == 200, response.status_code

        return await hammer(get)


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/v1/users/b000000").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("query-service did not answer")


def main() -> None:
    with bench_infra() as cfg:
        url = with_database(cfg.mongodb_url, "bench")
        asyncio.run(load(url))
        env = {
            **os.environ,
            "MONGODB_URL": url,
            "KAFKA_BOOTSTRAP_SERVERS": cfg.bootstrap_servers,
            "QUERY_PORT": str(cfg.query_port),
            "LOG_LEVEL": "WARNING",
            "ENVIRONMENT": "test",
        }
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "query-service")],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{cfg.query_port}"
            wait_ready(base)
            for name, run in (
                ("raw find_one", lambda: raw(url)),
                ("GET /v1/users", lambda: api(base)),
            ):
                rate, p50, p99 = asyncio.run(run())
                print(
                    f"{name:14s} {USERS:,} users c={CONCURRENCY}: {rate:8.1f} req/s  "
                    f"p50 {p50:7.1f} ms  p99 {p99:7.1f} ms",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
