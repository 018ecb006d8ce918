"""Ingest throughput: accepted webhooks/s and latency, next to a bare Starlette endpoint.

    uv run python -m tests.bench.ingest_throughput [--seconds 20] [--concurrency 64]
        [--workers 1] [--warmup 30] [--rounds 4] [--no-delivery-id]

Starts its own Kafka (full JIT, as a long-running broker runs) and FerretDB on free ports
in a temporary folder, the real ingest service as a uvicorn process (`ingest-service`,
default settings except the rate limit), and a bare Starlette app answering 202 with no
work, also under uvicorn, each with `--workers` processes. After an unmeasured warm-up of
ingest, the same load generator (raw HTTP/1.1 keep-alive, `concurrency` connections, each
POST with its own `webhook-id`) hits both for `seconds`; prints both results, the ratio,
and the CPU each process used per accepted request (where the two cores went). The seconds
are run in `--rounds` alternating slices per app, so drift in the machine's speed falls on
both alike.
Target: ratio >= 0.5, p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onboarding_devstack.processes import Managed, free_port, start, stop
from onboarding_devstack.stack import StackConfig, create_topics, start_infra, stop_all, wait_http
from onboarding_events import HR_RECORD_EXAMPLE

from tests.bench.process_cpu import CpuMeter

ROOT = Path(__file__).resolve().parents[2]
SEED: dict[str, Any] = dict(HR_RECORD_EXAMPLE)


def bare_app() -> object:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def accept(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"status": "accepted"}, status_code=202)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/v1/hr/webhook", accept, methods=["POST"]),
            Route("/v1/readyz", healthz),
        ]
    )


class CpuUse:
    """CPU seconds each named process (with its children) and this load generator used
    inside the `with` block."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self._meter = CpuMeter({name: [pid] for name, pid in pids.items() if pid is not None})
        self.used: dict[str, float] = {}

    def __enter__(self) -> CpuUse:
        self._meter.start()
        self._own = time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self._meter.stop()
        self.used = {**self._meter.spent(), "load generator": time.process_time() - self._own}


@dataclass
class Result:
    name: str
    accepted: int
    other: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def add(self, part: Result) -> None:
        self.accepted += part.accepted
        self.other += part.other
        self.seconds += part.seconds
        self.latencies_ms += part.latencies_ms

    def line(self) -> str:
        return (
            f"{self.name:<8} {self.rate:8.0f} accepted/s  p50 {self.percentile(0.5):6.1f} ms  "
            f"p99 {self.percentile(0.99):6.1f} ms  (202: {self.accepted}, other: {self.other})"
        )


async def _connection(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port)


def _request(host: str, body: bytes, *, with_id: bool = True) -> bytes:
    # Hand-written HTTP/1.1 keep-alive: the load generator must cost far less CPU than the
    # servers it measures (httpx costs about as much per request as the bare endpoint).
    head = (
        f"POST /v1/hr/webhook HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
        + (f"webhook-id: msg_{uuid.uuid4().hex}\r\n" if with_id else "")
        + f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def load(
    name: str, host: str, port: int, *, seconds: float, concurrency: int, with_id: bool = True
) -> Result:
    latencies: list[float] = []
    counts = {"accepted": 0, "other": 0}
    # Many employees, as HR traffic is: the keys spread over the topic's partitions.
    bodies = [json.dumps({**SEED, "employee_id": f"e{n}"}).encode() for n in range(1000)]
    body = bodies[0]
    connections = [await _connection(host, port) for _ in range(concurrency)]
    for reader, writer in connections[:20]:  # warm up: producer metadata, first writes
        await _exchange(reader, writer, _request(host, body))
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            request = _request(host, bodies[(id(writer) + n) % len(bodies)], with_id=with_id)
            t0 = time.perf_counter()
            status = await _exchange(reader, writer, request)
            latencies.append((time.perf_counter() - t0) * 1000)
            counts["accepted" if status == 202 else "other"] += 1
        writer.close()

    await asyncio.gather(*(worker(r, w) for r, w in connections))
    elapsed = time.perf_counter() - started
    return Result(name, counts["accepted"], counts["other"], elapsed, latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument(
        "--no-delivery-id", action="store_true", help="send no webhook-id (no dedupe writes)"
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="alternating slices the seconds are split into"
    )
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds, not measured")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes serving each app (INGEST_WORKERS)"
    )
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        import uvicorn

        uvicorn.run(
            "tests.bench.ingest_throughput:bare_app",
            factory=True,
            host="127.0.0.1",
            port=args.serve_bare,
            workers=args.workers,
            log_level="warning",
        )
        return

    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        cfg = StackConfig.on_free_ports(ROOT, Path(tmp), kafka_full_jit=True)
        bare_port = free_port()
        ingest, bare = Managed("ingest-service", cfg.run_dir), Managed("bare", cfg.run_dir)
        broker = Managed("kafka", cfg.run_dir)
        try:
            print("starting Kafka and FerretDB ...", file=sys.stderr)
            start_infra(cfg)
            create_topics(cfg)
            env = {
                **cfg.service_env(),
                "RATE_LIMIT_PER_S": "1000000",
                "RATE_LIMIT_BURST": "1000000",
                "INGEST_WORKERS": str(args.workers),
            }
            start(ingest, [str(Path(sys.executable).parent / "ingest-service")], env=env)
            start(bare, [sys.executable, "-m", "tests.bench.ingest_throughput",
                         "--serve-bare", str(bare_port), "--workers", str(args.workers)],
                  cwd=ROOT)  # fmt: skip
            wait_http(ingest, f"{cfg.url('ingest-service')}/v1/readyz", timeout=60)
            wait_http(bare, f"http://127.0.0.1:{bare_port}/v1/readyz", timeout=30)
            print(
                f"load: {args.concurrency} connections, {args.seconds:.0f} s per app"
                f" in {args.rounds} alternating slices",
                file=sys.stderr,
            )
            pids = {"bare": bare.pid(), "ingest": ingest.pid(), "kafka": broker.pid()}
            # Warm-up, not measured: the broker's JIT compiles its produce path (seconds of
            # CPU that would otherwise be billed to the first requests measured).
            asyncio.run(
                load("warm-up", "127.0.0.1", cfg.ingest_port, seconds=args.warmup,
                     concurrency=args.concurrency)
            )  # fmt: skip
            # Alternating slices (bare, ingest, ingest, bare, ...): this VM's CPU speed drifts
            # by tens of percent over a minute, and back-to-back 20 s runs billed the drift
            # to whichever app ran second.
            ports = {"bare": bare_port, "ingest": cfg.ingest_port}
            totals = {name: Result(name, 0, 0, 0.0, []) for name in ports}
            cpu: dict[str, Counter[str]] = {name: Counter() for name in ports}
            ratios = []
            for n in range(args.rounds):
                rates = {}
                for name in ("bare", "ingest") if n % 2 == 0 else ("ingest", "bare"):
                    with CpuUse(pids) as used:
                        part = asyncio.run(
                            load(name, "127.0.0.1", ports[name],
                                 seconds=args.seconds / args.rounds,
                                 concurrency=args.concurrency,
                                 with_id=name == "bare" or not args.no_delivery_id)
                        )  # fmt: skip
                    totals[name].add(part)
                    cpu[name].update(used.used)
                    rates[name] = part.rate
                ratios.append(rates["ingest"] / rates["bare"])
        finally:
            stop(ingest)
            stop(bare)
            stop_all(cfg)
    bare_result, ingest_result = totals["bare"], totals["ingest"]
    print(bare_result.line())
    print(ingest_result.line())
    ratio = ingest_result.rate / bare_result.rate if bare_result.rate else float("nan")
    p99 = ingest_result.percentile(0.99)
    print(
        f"ratio ingest/bare: {ratio:.2f} (target >= 0.5)   ingest p99: {p99:.1f} ms (target <= 50)"
    )
    print(f"ratio per round: {' '.join(f'{r:.2f}' for r in ratios)}")
    print(f"mean ingest latency {statistics.fmean(ingest_result.latencies_ms):.1f} ms")
    for result in (bare_result, ingest_result):
        per_request = ", ".join(
            f"{name} {seconds / max(result.accepted, 1) * 1e6:.0f}"
            for name, seconds in cpu[result.name].items()
            if seconds > 0.05 * result.seconds
        )
        print(f"CPU per accepted request during {result.name} (µs): {per_request}")


if __name__ == "__main__":
    main()
