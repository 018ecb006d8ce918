"""Enrichment throughput and rate-limit use, against the Okta simulator.

    uv run python -m tests.bench.enrich_throughput [--users 3000] [--windows 2] [--instances 1]
    uv run python -m tests.bench.enrich_throughput --bound [--users 10000]

Starts its own Kafka on free ports in a temporary folder, the Okta simulator and
enrich-service as real processes (as `make up` runs them), and:

1. Throughput: every Okta call takes 100 ms (simulator latency), rate limits out of the way;
   a backlog of `--users` HR events, then `--instances` enrich-service processes in one
   consumer group; enriched users/s by the enriched records' produce times, steady state
   (10th to 90th percent of them) and first to last. Target >= 300/s. Okta's
   concurrent-request cap bounds this (3 calls per user, 0.1 s each): at the default cap of
   20, at most ~67 users/s, so this run raises OKTA_MAX_CONCURRENCY (the simulator has no
   concurrency cap; a real org's caps at 75). The machine's 2 cores, shared by Kafka, the
   simulator and enrich-service, are the real limit, and other work on the machine moves
   users/s a lot: so CPU per enriched user, per process, is printed too (`process_cpu`),
   with how busy the whole machine was.
2. Rate limit: listUsers limited to 600/min (Okta's default for user search), 100 ms
   latency, a backlog larger than the limit allows; over `--windows` full one-minute
   windows, the share of the limit used (target >= 90%) and the share of 429 answers
   (target <= 1%), read from the simulator's request log.

`--bound` runs a third mode instead (issue #16, hiring at scale): the simulator's default
rate limits (listUsers 600/min, the others 1,200/min) and enrich-service's default
settings; `--users` people in the simulator and as a backlog of HR events, then one
enrich-service process. The time from its start to the last enriched record is set
against the bound the limits set (one search per person: `users` / 600 minutes), as a
percentage (100% = exactly at the limit; a run that starts late in a minute window can
use that window's whole allowance, so a little over 100% is possible). The simulator's
429 answers are counted from its request log, read every few seconds (it keeps the last
10,000 calls). Simulator latency and page size as in the other modes (100 ms, 200).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer
from onboarding_devstack import kafka
from onboarding_devstack.kafka import start_kafka, stop_kafka
from onboarding_devstack.processes import Managed, free_port, start, stop
from onboarding_devstack.stack import StackConfig, create_topics
from onboarding_events import (
    HR_USER_UPSERTED,
    HR_USERS_TOPIC,
    USERS_ENRICHED_TOPIC,
    HrUser,
    HrUserUpserted,
    kafka_headers,
)
from onboarding_runtime.kafka import EventProducer, KafkaConnection

from tests.bench.process_cpu import CpuMeter

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
TOKEN = "okta-simulator-token"
HIGH = {
    "listUsers": 1_000_000,
    "getUser": 1_000_000,
    "listUserGroups": 1_000_000,
    "listAppLinks": 1_000_000,
}


def wait_http(url: str, proc: Managed, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if not proc.running():
            raise RuntimeError(f"{proc.name} exited; see {proc.log_file}")
        time.sleep(0.2)
    raise RuntimeError(f"{proc.name} not ready")


async def seed_users(sim: str, n: int, tag: str) -> list[tuple[str, str]]:
    people = [(f"b{tag}{i}", f"bench.{tag}.{i}@example.com") for i in range(n)]
    async with httpx.AsyncClient(base_url=sim, timeout=30) as http:
        sem = asyncio.Semaphore(32)

        async def put(email: str) -> None:
            async with sem:
                body = {
                    "email": email,
                    "first_name": "B",
                    "last_name": "U",
                    "groups": ["Everyone", "Engineering", "Full-Time Employees"],
                    "app_links": ["Google Workspace", "Slack", "Jira"],
                }
                (await http.put("/_sim/users", json=body)).raise_for_status()

        await asyncio.gather(*(put(email) for _, email in people))
    return people


async def publish(bootstrap: str, people: list[tuple[str, str]]) -> None:
    producer = EventProducer(KafkaConnection(bootstrap), timeout_s=30)
    await producer.start()
    try:
        for start_at in range(0, len(people), 500):
            await asyncio.gather(
                *(
                    producer.publish(
                        HR_USERS_TOPIC, key=e, value=_event(e, m).to_json(), headers=kafka_headers()
                    )
                    for e, m in people[start_at : start_at + 500]
                )
            )
    finally:
        await producer.stop()


def _event(employee_id: str, email: str) -> HrUserUpserted:
    data = HrUser(employee_id=employee_id, first_name="B", last_name="U", email=email)
    return HrUserUpserted(source="urn:bench", type=HR_USER_UPSERTED, subject=employee_id, data=data)


async def enriched_times(
    bootstrap: str, keys: set[str], within: float, meter: CpuMeter | None = None
) -> list[float]:
    """When each key's enriched record was produced (its CreateTime, set by enrich-service),
    in arrival order; the CPU meter, if any, runs from the 10th to the 90th percent of
    arrivals."""
    consumer = AIOKafkaConsumer(
        USERS_ENRICHED_TOPIC,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: dict[str, float] = {}
    low, high = len(keys) // 10, len(keys) * 9 // 10
    deadline = time.monotonic() + within
    try:
        while len(seen) < len(keys) and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            before = len(seen)
            for records in batches.values():
                for record in records:
                    key = (record.key or b"").decode()
                    if key in keys and key not in seen:
                        seen[key] = record.timestamp / 1000
            if meter is not None and before <= low < len(seen):
                meter.start()
            if meter is not None and before <= high < len(seen):
                meter.stop()
    finally:
        await consumer.stop()
    return list(seen.values())


def rate(times: list[float], low: float = 0.0, high: float = 1.0) -> float:
    """Records per second between the `low` and `high` shares of them, by produce time."""
    ordered = sorted(times)
    first, last = int(low * (len(ordered) - 1)), int(high * (len(ordered) - 1))
    span = ordered[last] - ordered[first] if ordered else 0.0
    return (last - first) / span if span > 0 else float("nan")


def start_enrich(
    run: Path, name: str, bootstrap: str, sim: str, *, instances: int = 1, **env: str
) -> list[Managed]:
    """`instances` enrich-service processes in one consumer group, all started before any
    is waited for, so the group forms (and rebalances) once."""
    procs: list[tuple[Managed, int]] = []
    for number in range(instances):
        proc = Managed(f"{name}-{number}", run)
        port = free_port()
        start(
            proc,
            [str(BIN / "enrich-service")],
            env={
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "OKTA_ORG_URL": sim,
                "OKTA_API_TOKEN": TOKEN,
                "ENRICH_GROUP_ID": name,
                "ENRICH_PORT": str(port),
                "LOG_FORMAT": "text",
                "LOG_LEVEL": "WARNING",
                **env,
            },
        )
        procs.append((proc, port))
    for proc, port in procs:
        wait_http(f"http://127.0.0.1:{port}/v1/healthz", proc)
    return [proc for proc, _ in procs]


def pid_of(proc: Managed) -> int:
    pid = proc.pid()
    if pid is None:
        raise RuntimeError(f"{proc.name} is not running; see {proc.log_file}")
    return pid


async def throughput(
    run: Path, bootstrap: str, sim: Managed, sim_url: str, users: int, instances: int
) -> None:
    people = await seed_users(sim_url, users, uuid.uuid4().hex[:6])
    await publish(bootstrap, people)  # a backlog: enrich-service drains it at full speed
    procs = start_enrich(
        run,
        "enrich-throughput",
        bootstrap,
        sim_url,
        instances=instances,
        ENRICH_CONCURRENCY=str(160 // instances),
        OKTA_MAX_CONCURRENCY=str(200 // instances),
    )
    meter = CpuMeter(
        {
            "enrich-service": [pid_of(proc) for proc in procs],
            "okta-simulator": [pid_of(sim)],
            "kafka": [pid_of(Managed(kafka.NAME, run))],
        }
    )
    try:
        times = await enriched_times(bootstrap, {e for e, _ in people}, 300, meter)
    finally:
        for proc in procs:
            stop(proc)
    print(
        f"throughput: {len(times)}/{users} users enriched by {instances} instance(s); "
        f"{rate(times, 0.1, 0.9):.0f} users/s steady (10th-90th percent), "
        f"{rate(times):.0f} users/s first to last (100 ms per Okta call)"
    )
    print(meter.report(len(times) * 9 // 10 - len(times) // 10))


async def rate_limited(run: Path, bootstrap: str, sim: str, windows: int) -> None:
    async with httpx.AsyncClient(base_url=sim, timeout=30) as http:
        await http.put("/_sim/rate-limits", json={"endpoint": "listUsers", "limit": 600})
        people = await seed_users(sim, 600 * (windows + 2), uuid.uuid4().hex[:6])
        await publish(bootstrap, people)
        await http.delete("/_sim/requests")
        (proc,) = start_enrich(run, "enrich-ratelimit", bootstrap, sim)
        try:
            begin = math.ceil(time.time() / 60) * 60 + 60  # a whole window after the start
            end = begin + 60 * windows
            await asyncio.sleep(end - time.time() + 2)
            log = (await http.get("/_sim/requests", params={"endpoint": "listUsers"})).json()
        finally:
            stop(proc)
    times = [
        (datetime.fromisoformat(r["time"].replace("Z", "+00:00")).timestamp(), r["status"])
        for r in log
    ]
    inside = [status for t, status in times if begin <= t < end]
    ok, throttled = inside.count(200), inside.count(429)
    print(
        f"rate limit 600/min over {windows} full windows: {ok} searches answered = "
        f"{ok / (600 * windows):.1%} of the limit; 429s {throttled}/{len(inside)} = "
        f"{throttled / max(len(inside), 1):.2%}"
    )


class RequestLog:
    """The simulator's request log, read every `every` seconds while the `with` block runs
    and merged (it keeps only the last 10,000 calls): the status of each call, by when and
    what it asked (milliseconds and the full path and query tell calls apart)."""

    def __init__(self, http: httpx.AsyncClient, every: float = 5.0) -> None:
        self._http, self._every = http, every
        self.status: dict[tuple[str, str, str, str], int | None] = {}

    async def read(self) -> None:
        for r in (await self._http.get("/_sim/requests")).json():
            if r["endpoint"] is not None:
                key = (r["time"], r["method"], r["path"], r["query_string"])
                self.status[key] = r["status"]

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            await self.read()

    async def __aenter__(self) -> RequestLog:
        await self._http.delete("/_sim/requests")
        self._task = asyncio.create_task(self._follow())
        return self

    async def __aexit__(self, *_: object) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.read()


async def at_the_bound(run: Path, bootstrap: str, sim: str, users: int) -> None:
    async with httpx.AsyncClient(base_url=sim, timeout=30) as http:
        limits = {r["endpoint"]: r["limit"] for r in (await http.get("/_sim/rate-limits")).json()}
        searches = limits["listUsers"]
        bound_s = users / searches * 60
        people = await seed_users(sim, users, uuid.uuid4().hex[:6])
        await publish(bootstrap, people)
        async with RequestLog(http) as log:
            began = time.time()
            (proc,) = start_enrich(run, "enrich-bound", bootstrap, sim)
            try:
                keys = {e for e, _ in people}
                times = await enriched_times(bootstrap, keys, 2.5 * bound_s + 120)
            finally:
                stop(proc)
    elapsed = max(times) - began if times else float("nan")
    statuses = list(log.status.values())
    throttled = statuses.count(429)
    print(
        f"bound: {len(times)}/{users} users enriched in {elapsed / 60:.2f} min (from "
        f"enrich-service's start to the last enriched record); the bound at {searches} "
        f"searches/min is {bound_s / 60:.2f} min; bound/elapsed {bound_s / elapsed:.1%}"
    )
    print(
        f"Okta calls: {len(statuses)}, 429s {throttled} ({throttled / max(len(statuses), 1):.2%})"
        f", other non-200 {sum(s not in (200, 429) for s in statuses)}; limits per minute: "
        + ", ".join(f"{name} {limit}" for name, limit in limits.items())
    )


async def main(users: int, windows: int, instances: int, bound: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="enrich-bench-") as tmp:
        cfg = StackConfig.on_free_ports(ROOT, Path(tmp))
        run = cfg.run_dir
        start_kafka(ROOT, run, cfg.data_dir / "kafka", cfg.kafka_port, cfg.kafka_controller_port)
        bootstrap = cfg.bootstrap_servers
        sim_port = cfg.okta_sim_port
        sim_proc = Managed("okta-simulator", run)
        start(
            sim_proc,
            [str(BIN / "okta-simulator")],
            env={
                "OKTA_SIM_PORT": str(sim_port),
                "OKTA_SIM_LATENCY_MS": "100",
                "OKTA_SIM_GROUPS_PAGE_SIZE": "200",
                "OKTA_SIM_LOG_LEVEL": "warning",
                **({} if bound else {"OKTA_SIM_RATE_LIMITS": json.dumps(HIGH)}),
            },
        )
        sim = f"http://127.0.0.1:{sim_port}"
        try:
            wait_http(f"{sim}/v1/healthz", sim_proc)
            create_topics(cfg)  # `onboarding-ops topics`: every topic the services use
            print(f"started {datetime.now(UTC):%H:%M:%S}")
            if bound:
                await at_the_bound(run, bootstrap, sim, users)
                return
            if users:
                await throughput(run, bootstrap, sim_proc, sim, users, instances)
            if windows:
                await rate_limited(run, bootstrap, sim, windows)
        finally:
            stop(sim_proc)
            stop_kafka(run)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="enrich-service throughput and rate limits")
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--windows", type=int, default=2)
    parser.add_argument(
        "--instances", type=int, default=1, help="enrich-service processes in one group"
    )
    parser.add_argument(
        "--bound",
        action="store_true",
        help="only: --users people at the default Okta limits, against the bound they set",
    )
    args = parser.parse_args()
    asyncio.run(main(args.users, args.windows, args.instances, args.bound))
