"""`GET /v1/users/{id}` against a raw PyMongo `find_one` loop, 10k users, concurrency 64.

Run: `uv run python -m tests.bench.query_read_throughput [--seconds 15] [--rounds 2]`.
The query-service runs as one real uvicorn process (one event loop, with a read key, as in
production) on a private FerretDB and broker. The load generator is this process, also one
event loop: the raw loop shares one `AsyncMongoClient` (its default pool, so 64 connections
at concurrency 64) like the service does; the HTTP loop keeps 64 keep-alive connections.
The two alternate for `rounds`, so noise from other work on the machine hits both.

The HTTP client is hand-written HTTP/1.1 (as in `ingest_throughput.py`): at concurrency 64
httpx spent ~12 ms of CPU per request here, a whole core, and capped the measurement at
~90 req/s while the service itself sat mostly idle.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
READ_KEY = "bench-read-key"


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


Call = Callable[[str], Awaitable[None]]


@dataclass
class Result:
    rate: float  # requests/s
    p50_ms: float
    p99_ms: float
    server_cpu_us: float | None = None  # the query-service's CPU per request, when known

    def line(self, name: str) -> str:
        cpu = (
            "" if self.server_cpu_us is None else f"  service CPU {self.server_cpu_us:5.0f} us/req"
        )
        return (
            f"{name:14s} {USERS:,} users c={CONCURRENCY}: {self.rate:8.1f} req/s  "
            f"p50 {self.p50_ms:7.1f} ms  p99 {self.p99_ms:7.1f} ms{cpu}"
        )


async def hammer(connect: Callable[[], Awaitable[Call]], seconds: float) -> Result:
    """Throughput and latency of CONCURRENCY workers, each with its own `connect()`ed call."""
    keys = ids()
    latencies: list[float] = []
    calls = [await connect() for _ in range(CONCURRENCY)]
    deadline = time.monotonic() + seconds

    async def worker(call: Call) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            await call(random.choice(keys))
            latencies.append(time.perf_counter() - started)

    began = time.monotonic()
    await asyncio.gather(*(worker(call) for call in calls))
    elapsed = time.monotonic() - began
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    return Result(len(latencies) / elapsed, p50, p99)


async def raw(url: str, seconds: float) -> Result:
    """One client, one pool, shared by every worker: what the service has."""
    client, db = open_mongo(url)
    users = db["users"]

    async def find(employee_id: str) -> None:
        assert await users.find_one({"_id": employee_id}) is not None

    async def connect() -> Call:
        return find

    try:
        await users.find_one({"_id": ids()[0]})  # the first connection, outside the clock
        return await hammer(connect, seconds)
    finally:
        await client.close()


async def api(port: int, seconds: float) -> Result:
    """One keep-alive HTTP/1.1 connection per worker."""
    connections: list[asyncio.StreamWriter] = []

    async def connect() -> Call:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        connections.append(writer)

        async def get(employee_id: str) -> None:
            writer.write(
                f"GET /v1/users/{employee_id} HTTP/1.1\r\nhost: query\r\n"
                f"authorization: Bearer {READ_KEY}\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            status, length = parse_head(head)
            body = await reader.readexactly(length)
            assert status == 200, (status, body)
            assert body.startswith(b'{"id":"'), body

        return get

    try:
        return await hammer(connect, seconds)
    finally:
        for writer in connections:
            writer.close()


def parse_head(head: bytes) -> tuple[int, int]:
    """Status and Content-Length of a response head (the service always sends a length)."""
    lines = head.split(b"\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:")
    )
    return int(lines[0].split(b" ", 2)[1]), length


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far (Linux `/proc`; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 60
    headers = {"Authorization": f"Bearer {READ_KEY}"}
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/v1/users/b000000", headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("query-service did not answer")


def measured(server: subprocess.Popen[bytes], port: int, seconds: float) -> Result:
    before = cpu_seconds(server.pid)
    result = asyncio.run(api(port, seconds))
    after = cpu_seconds(server.pid)
    if before is not None and after is not None:
        result.server_cpu_us = (after - before) / (result.rate * seconds) * 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="GET /v1/users/{id} next to raw find_one")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="raw, GET, raw, GET, ...")
    args = parser.parse_args()
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
            "READ_API_KEY": READ_KEY,
        }
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "query-service")],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_ready(f"http://127.0.0.1:{cfg.query_port}")
            print("raw find_one: this process, one event loop, one client (default pool)")
            print("GET: query-service, one uvicorn process; load from this process, one loop")
            ratios = []
            for _ in range(args.rounds):
                direct = asyncio.run(raw(url, args.seconds))
                print(direct.line("raw find_one"), flush=True)
                served = measured(server, cfg.query_port, args.seconds)
                print(served.line("GET /v1/users"), flush=True)
                ratios.append(served.rate / direct.rate)
            print(
                "ratio GET/raw per round: "
                + ", ".join(f"{r:.2f}" for r in ratios)
                + "  (target >= 0.70)"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
