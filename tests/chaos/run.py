"""The fault-injection ledger run on the cluster stack: `make chaos`, and a short version
that `make test` runs (`test_chaos_short.py`).

Three Kafka nodes (RF 3, min ISR 2), two replicas of every service, FerretDB, the Okta
simulator (100 ms per answer, rate limits raised, 429 and 5xx bursts), Toxiproxy between.
While the sender delivers every employee's versions (about 30% twice), the faults are
applied one after the other, and (full run) the operators' commands run: a replay, a
rebuild of the view, erasures (some with events in flight). When the system is quiet the
never-known people are added to Okta and their dead letters redriven; then the checker
reads the topics and the query API, and the report is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from onboarding_devstack.cluster_run import ClusterRun
from onboarding_devstack.cluster_stack import SERVICES, ClusterStack
from onboarding_devstack.polling import eventually_async

from tests.chaos.checker import check, settled, unsettled
from tests.chaos.faults import Faults, FaultWindow, kill_one_replica
from tests.chaos.ledger import Ledger
from tests.chaos.okta import put_okta_users
from tests.chaos.plan import OktaPresence, Plan, build_plan
from tests.chaos.readiness import ReadinessProbe
from tests.chaos.report import RunReport, build_report
from tests.chaos.sender import SenderConfig, WebhookSender
from tests.chaos.sources import LiveSources, erasure_times

PII_HASH_KEY = "chaos-run-pii-key"
# What the run changes from the defaults, and why:
CHAOS_ENV = {
    "LOG_FORMAT": "json",
    "PII_HASH_KEY": PII_HASH_KEY,
    # The simulator answers like a real org (100 ms), with limits that let a run fit in
    # about a quarter of an hour on two cores (429 and 5xx bursts are armed separately).
    "OKTA_SIM_LATENCY_MS": "100",
    "OKTA_SIM_RATE_LIMITS": (
        '{"listUsers": 100000, "getUser": 100000, "listUserGroups": 100000, "listAppLinks": 100000}'
    ),
    # People Okta never learns of end `failed` after 20 s instead of 3 days, looked up again
    # on the retry tiers after 2 s, then every 5 s.
    "ENRICH_NOT_FOUND_RETRY_S": "20",
    "ENRICH_RETRY_DELAYS_S": "2,5",
    "ENRICH_PROBE_INTERVAL_S": "1",
    # The whole load comes from one address: one sender's rate limit would throttle it.
    "RATE_LIMIT_PER_S": "5000",
    "RATE_LIMIT_BURST": "5000",
}


@dataclass(frozen=True)
class Shape:
    employees: int
    late_share: float  # unknown to Okta at first, added `late_after_s` into the run
    never_share: float  # never known until the end: failed, then redriven
    late_after_s: float
    operations: bool
    full: bool


FULL = Shape(2000, 0.05, 0.02, 10.0, operations=True, full=True)
SHORT = Shape(60, 0.05, 0.0, 10.0, operations=False, full=False)


def _presence(shape: Shape, rng: random.Random) -> dict[int, OktaPresence]:
    chosen: dict[int, OktaPresence] = {}
    for index in range(shape.employees):
        roll = rng.random()
        if roll < shape.never_share:
            chosen[index] = "never"
        elif roll < shape.never_share + shape.late_share:
            chosen[index] = "late"
    return chosen


def _ops(stack: ClusterStack, *args: str) -> subprocess.CompletedProcess[str]:
    ops = str(Path(sys.executable).parent / "onboarding-ops")
    env = {**os.environ, **stack.ops_env()}
    return subprocess.run([ops, *args], env=env, capture_output=True, text=True, check=False)


async def _operation(stack: ClusterStack, *args: str) -> None:
    done = await asyncio.to_thread(_ops, stack, *args)
    if done.returncode != 0:
        raise RuntimeError(f"onboarding-ops {' '.join(args)} failed:\n{done.stderr}")


async def _okta_bursts(client: httpx.AsyncClient, simulator: str, stop: asyncio.Event) -> None:
    """Now and then a burst of 429s or 5xx from Okta, as a real org has."""
    kinds = ("429", "503")
    turn = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=15)
        kind = kinds[turn % 2]
        turn += 1
        with contextlib.suppress(httpx.HTTPError):
            await client.post(f"{simulator}/_sim/faults", json={"kind": kind, "count": 5})


async def run(shape: Shape, root: Path, data_dir: Path, *, seed: int | None = None) -> RunReport:
    rng = random.Random(seed)
    presence = _presence(shape, rng)
    plan = build_plan(shape.employees, okta=lambda i: presence.get(i, "present"), seed=seed)
    stack = ClusterStack.on_free_ports(root, data_dir, extra_env=CHAOS_ENV)
    cluster = ClusterRun(stack)
    faults = Faults(cluster)
    erased: list[str] = []
    try:
        await cluster.start(replicas=2)
        report = await _drive(shape, plan, stack, cluster, faults, erased)
    finally:
        await cluster.stop()
    return report


async def _drive(
    shape: Shape,
    plan: Plan,
    stack: ClusterStack,
    cluster: ClusterRun,
    faults: Faults,
    erased: list[str],
) -> RunReport:
    ingest = [stack.url("ingest-service", i) for i in (1, 2)]
    readyz = [f"{stack.url(s, i)}/v1/readyz" for s in SERVICES for i in (1, 2, 3)]
    async with httpx.AsyncClient(timeout=15) as client:
        await put_okta_users(client, stack.okta_url, plan.with_okta("present"))
        await put_okta_users(
            client, stack.okta_url, plan.with_okta("late"), appears_after_s=shape.late_after_s
        )
        stop_bursts = asyncio.Event()
        async with (
            ReadinessProbe(client, readyz) as probe,
            LiveSources(stack.bootstrap_servers, stack.url("query-service", 1)) as sources,
        ):
            began = datetime.now(UTC).isoformat()
            sender = WebhookSender(
                client, ingest, Ledger(), config=SenderConfig(concurrency=24, budget_s=600)
            )
            sending = asyncio.create_task(sender.run(plan))
            bursts = asyncio.create_task(_okta_bursts(client, stack.okta_url, stop_bursts))
            await _faults_and_operations(shape, plan, stack, faults, erased, began)
            ledger = await sending
            stop_bursts.set()
            await bursts

            async def quiet(within_s: float) -> None:
                """Until settled; past `within_s` the checker judges what there is (and
                finds what never settled), with the first stragglers printed."""

                async def now() -> bool | None:
                    return await settled(plan, ledger, sources, erased=erased) or None

                try:
                    reached: bool = await eventually_async(now, within=within_s, every=2.0)
                    assert reached
                except AssertionError:
                    waiting = await unsettled(plan, ledger, sources, erased=erased)
                    print(f"not settled after {within_s:.0f} s: {len(waiting)} employees")
                    for line in waiting[:20]:
                        print(f"  {line}")

            await quiet(600.0 if shape.full else 180.0)
            never = plan.with_okta("never")
            if never:  # added to Okta now, and their dead letters sent back: completed
                await put_okta_users(client, stack.okta_url, never)
                await _operation(stack, "dlq", "redrive")
                for employee in never:
                    plan.expect(employee.employee_id, "completed")
                await quiet(300.0)
            erasures = await erasure_times(stack.bootstrap_servers, erased, PII_HASH_KEY)
            # Our services' logs: the simulator stands in for Okta, whose logs are Okta's.
            logs = [p for p in cluster.log_files() if p.stem.startswith(SERVICES)]
            result = await check(plan, ledger, sources, erasures=erasures, log_files=logs)
    return build_report(
        plan,
        ledger,
        result,
        samples=probe.samples,
        faults=faults.windows,
        ingest_readyz=[f"{url}/v1/readyz" for url in ingest],
        # Recovered: the two replicas of every service the stack runs are ready again.
        all_readyz=[f"{stack.url(s, i)}/v1/readyz" for s in SERVICES for i in (1, 2)],
        names={f"{stack.url(s, i)}/v1/readyz": f"{s}-{i}" for s in SERVICES for i in (1, 2, 3)},
    )


async def _faults_and_operations(
    shape: Shape, plan: Plan, stack: ClusterStack, faults: Faults, erased: list[str], since: str
) -> None:
    """The faults, one after the other, with a breath of load between them."""
    breath = 10.0 if shape.full else 5.0
    await asyncio.sleep(breath)
    await faults.kill_leader_broker()
    await asyncio.sleep(breath)
    if not shape.full:
        await kill_one_replica(faults, "enrich-service", 1)
        await asyncio.sleep(breath)
        await faults.scale_enrich()
        return
    await faults.pause_broker(30.0)
    await asyncio.sleep(breath)
    await faults.kill_each_replica()
    await _operation(stack, "replay", "--since", since)
    await faults.scale_enrich()
    await asyncio.sleep(breath)
    await faults.kill_ferretdb()
    await _operation(stack, "rebuild-view")
    await faults.cut_enrich_kafka(20.0)
    await asyncio.sleep(breath)
    await faults.cut_query_ferretdb(20.0)
    # Erasures, some while their employees' versions are still being sent.
    for employee in list(plan.with_okta("present"))[: max(3, len(plan) // 200)]:
        await _operation(stack, "erase", "--force", employee.employee_id)
        plan.expect(employee.employee_id, "erased")
        erased.append(employee.employee_id)


__all__ = ["FULL", "SHORT", "FaultWindow", "Shape", "run"]
