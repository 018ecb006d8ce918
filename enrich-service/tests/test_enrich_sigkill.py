"""enrich-service as a real process, killed with SIGKILL mid-batch and restarted: nothing lost."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from enrich_support import (
    BIN,
    TOKEN,
    Simulator,
    end_offsets,
    hr_event,
    publish_hr,
    read_until,
    skip_to_end,
    unique_person,
    wait_ready,
)
from onboarding_devstack.processes import Managed, free_port, pid_alive, start, stop
from onboarding_events import RETRY_TOPICS, USERS_ENRICHED_TOPIC

pytestmark = pytest.mark.integration


def _start(proc: Managed, env: dict[str, str], port: int) -> int:
    pid = start(proc, [str(BIN / "enrich-service")], env=env)
    wait_ready(f"http://127.0.0.1:{port}/v1/healthz", proc)
    return pid


async def test_sigkill_mid_batch_and_restart_loses_nothing(
    kafka_bootstrap: str, sim: Simulator, unique_name: str, tmp_path: Path
) -> None:
    people = [unique_person() for _ in range(150)]
    for _, email in people:
        await sim.put_user(email)
    await sim.latency(40)
    port = free_port()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "OKTA_ORG_URL": sim.base_url,
        "OKTA_API_TOKEN": TOKEN,
        "ENRICH_GROUP_ID": unique_name,
        "ENRICH_PORT": str(port),
        "ENRICH_CONCURRENCY": "8",
        "ENVIRONMENT": "test",
        "LOG_FORMAT": "text",
    }
    await skip_to_end(kafka_bootstrap, unique_name)
    await skip_to_end(kafka_bootstrap, f"{unique_name}.retry", *RETRY_TOPICS)
    proc = Managed("enrich-service", tmp_path)
    keys = {e for e, _ in people}
    since = await end_offsets(kafka_bootstrap, USERS_ENRICHED_TOPIC)
    pid = await asyncio.to_thread(_start, proc, env, port)
    try:
        await publish_hr(kafka_bootstrap, [hr_event(e, m) for e, m in people])
        before = await read_until(kafka_bootstrap, since, keys, lambda f: len(f) >= 30)
        os.killpg(pid, signal.SIGKILL)
        await asyncio.to_thread(_wait_dead, pid)
        assert len({r.key for r in before}) < len(people)  # killed mid-way

        await asyncio.to_thread(_start, proc, env, port)
        found = await read_until(
            kafka_bootstrap,
            since,
            keys,
            lambda f: len({r.key for r in f}) == len(people),
            within=60,
        )
    finally:
        await asyncio.to_thread(stop, proc)

    assert {(r.key or b"").decode() for r in found} == keys


def _wait_dead(pid: int) -> None:
    import time

    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
