"""How fast `onboarding-ops` replays HR events and rebuilds the view.

    uv run python -m tests.bench.ops_replay_rebuild [--events 20000] [--users 10000]

Starts its own Kafka and FerretDB on free ports in a temporary folder, writes `--events`
HR events and `--events` enriched events for `--users` employees to private topics, then
times `replay --since earliest` (read, check, republish with acks=all) and `rebuild-view`
(read the enriched topic, bulk-write a new collection, flip, wait out the pointer TTL,
catch up, drop the old one) through the same code the CLI runs.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from onboarding_devstack.stack import StackConfig, start_infra, stop_all
from onboarding_events import kafka_headers
from onboarding_ops import commands
from onboarding_ops.bootstrap import Ops
from onboarding_ops.settings import Settings
from onboarding_ops.topics import TopicNames

from tests.e2e.ops_support import new_employee

ROOT = Path(__file__).resolve().parents[2]


def _values(events: int, users: int) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    # Import here: the test helpers module lives beside the package tests, not in a package.
    import sys

    sys.path.insert(0, str(ROOT / "deploy" / "onboarding-ops" / "tests"))
    from opskit import enriched_event, hr_event

    ids = [new_employee("bench")[0] for _ in range(users)]
    start = datetime.now(UTC) - timedelta(hours=1)
    hr, enriched = [], []
    for n in range(events):
        employee_id = ids[n % users]
        when = start + timedelta(milliseconds=n)
        hr.append((employee_id, hr_event(employee_id, time=when).to_json()))
        enriched.append(
            (employee_id, enriched_event(employee_id, time=when, hr_offset=n).to_json())
        )
    return hr, enriched


async def _fill(bootstrap: str, topic: str, records: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=v, key=k.encode(), headers=kafka_headers())
            for k, v in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _run(cfg: StackConfig, events: int, users: int) -> None:
    ops = Ops(
        Settings(
            kafka_bootstrap_servers=cfg.bootstrap_servers,
            mongodb_url=cfg.mongodb_url,
            environment="test",
        ),
        TopicNames.prefixed(f"bench{uuid.uuid4().hex[:6]}."),
    )
    await commands.topics(ops, fix=True)
    hr, enriched = _values(events, users)
    await _fill(cfg.bootstrap_servers, ops.topics.hr, hr)
    await _fill(cfg.bootstrap_servers, ops.topics.enriched, enriched)

    started = time.perf_counter()
    replayed = await commands.replay(ops, None)
    replay_s = time.perf_counter() - started
    started = time.perf_counter()
    rebuilt = await commands.rebuild(ops)
    rebuild_s = time.perf_counter() - started

    print(
        f"replay: {replayed.republished} events in {replay_s:.1f}s "
        f"= {replayed.republished / replay_s:.0f} events/s"
    )
    print(
        f"rebuild-view: {rebuilt.records} records -> {rebuilt.users} users in {rebuild_s:.1f}s "
        f"= {rebuilt.records / rebuild_s:.0f} records/s "
        f"(includes the {ops.settings.view_pointer_ttl_s + 0.5:.1f}s pointer wait)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = StackConfig.on_free_ports(ROOT, Path(tmp))
        try:
            start_infra(cfg)
            asyncio.run(_run(cfg, args.events, args.users))
        finally:
            stop_all(cfg)


if __name__ == "__main__":
    main()
