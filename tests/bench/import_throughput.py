"""Bulk import: records/s of `onboarding-ops import`, next to the single-record webhook rate.

    uv run python -m tests.bench.import_throughput [--rows 100000] [--seconds 20]
        [--concurrency 64] [--warmup 10]

Starts its own Kafka (full JIT, as a long-running broker runs) on free ports in a temporary
folder and ingest-service as a real process (`ingest-service`, default settings except the
rate limit, raised out of the way as in `ingest_throughput`), writes a CSV of `--rows` valid
HR records (unique employee ids and emails), and measures in the same run:

1. the single webhook (`POST /v1/hr/webhook`, one record per request, each with its own
   `webhook-id`) with `ingest_throughput`'s load generator (raw HTTP/1.1 keep-alive,
   `--concurrency` connections), `--seconds` in two halves, before and after the import,
   so drift in the machine's speed falls on both alike (after an unmeasured warm-up);
2. `onboarding-ops import FILE` as its own process (`POST /v1/hr/webhooks:batch`, 1,000
   records per batch, one batch at a time): wall time from starting the command to its
   exit (file check, start-up and summary included) gives records/s. Its summary must say
   every row was accepted, and `hr.users.v1` must hold exactly one new record per row,
   one per imported employee.

CPU per record of ingest-service, Kafka and the sender (the load generator, or the
`onboarding-ops` process) is printed too: records/s moves with whatever else runs on the
machine, CPU per record much less. Neither path sends credentials (ingest-service has no
API_KEY or WEBHOOK_SECRET here, as in development), so neither pays for a signature check.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from onboarding_devstack.kafka import ensure_kafka, start_kafka, stop_kafka
from onboarding_devstack.processes import Managed, start, stop
from onboarding_devstack.stack import StackConfig, create_topics, wait_http
from onboarding_events import HR_USERS_TOPIC

from tests.bench.ingest_throughput import CpuUse, Result, load
from tests.bench.process_cpu import CpuMeter

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HEADER = ("employee_id", "first_name", "last_name", "email", "title", "department", "start_date")


def write_hr_file(path: Path, rows: int, tag: str) -> set[str]:
    """`rows` valid records, unique employee ids and emails; returns the ids."""
    ids = [f"imp-{tag}-{n:06d}" for n in range(rows)]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n, employee_id in enumerate(ids):
            first, last = f"Ada{n % 997}", f"Lovelace{n}"
            email = f"ada.{tag}.{n}@example.com"
            writer.writerow((employee_id, first, last, email, "Engineer", "R&D", "2026-11-02"))
    return set(ids)


def hr_ends(bootstrap: str) -> dict[int, int]:
    """`hr.users.v1`'s end offset per partition."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "import-bench"})
    try:
        topic = consumer.list_topics(HR_USERS_TOPIC, timeout=10).topics[HR_USERS_TOPIC]
        return {
            p: consumer.get_watermark_offsets(TopicPartition(HR_USERS_TOPIC, p), timeout=10)[1]
            for p in topic.partitions
        }
    finally:
        consumer.close()


def new_records(bootstrap: str, before: dict[int, int], ids: set[str]) -> tuple[int, int]:
    """Records written to `hr.users.v1` since `before`, and how many of `ids` they name."""
    after = hr_ends(bootstrap)
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "import-bench", "enable.auto.commit": False}
    )
    seen: set[str] = set()
    left = {p for p in after if after[p] > before.get(p, 0)}
    try:
        consumer.assign([TopicPartition(HR_USERS_TOPIC, p, before.get(p, 0)) for p in left])
        deadline = time.monotonic() + 120
        while left and time.monotonic() < deadline:
            for record in consumer.consume(10_000, timeout=1):
                if record.error() is not None:
                    continue
                key = (record.key() or b"").decode()
                if key in ids:
                    seen.add(key)
                if (record.offset() or 0) + 1 >= after[record.partition() or 0]:
                    left.discard(record.partition() or 0)
    finally:
        consumer.close()
    return sum(after[p] - before.get(p, 0) for p in after), len(seen)


def run_import(cfg: StackConfig, path: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of the `onboarding-ops` process, and its summary line."""
    env = {**cfg.service_env(), "INGEST_URL": cfg.url("ingest-service")}
    own = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "onboarding-ops"), "import", str(path)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - began
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = used.ru_utime + used.ru_stime - own.ru_utime - own.ru_stime
    if done.returncode != 0:
        raise RuntimeError(
            f"onboarding-ops import exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return wall, cpu, done.stdout.strip()


def accepted_in(summary: str) -> int:
    match = re.search(r"([\d,]+) accepted", summary)
    return int(match.group(1).replace(",", "")) if match else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=100_000, help="records in the file")
    parser.add_argument("--seconds", type=float, default=20.0, help="single webhooks, measured")
    parser.add_argument("--concurrency", type=int, default=64, help="single-webhook connections")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds, not measured")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        cfg = StackConfig.on_free_ports(ROOT, Path(tmp), kafka_full_jit=True)
        ingest, broker = Managed("ingest-service", cfg.run_dir), Managed("kafka", cfg.run_dir)
        try:
            print("starting Kafka and ingest-service ...", file=sys.stderr)
            ensure_kafka(ROOT)
            start_kafka(ROOT, cfg.run_dir, cfg.data_dir / "kafka", cfg.kafka_port,
                        cfg.kafka_controller_port, full_jit=True)  # fmt: skip
            create_topics(cfg)
            env = {
                **cfg.service_env(),
                "RATE_LIMIT_PER_S": "1000000",
                "RATE_LIMIT_BURST": "1000000",
            }
            start(ingest, [str(BIN / "ingest-service")], env=env)
            wait_http(ingest, f"{cfg.url('ingest-service')}/v1/readyz", timeout=60)
            hr_file = Path(tmp) / "hires.csv"
            ids = write_hr_file(hr_file, args.rows, uuid.uuid4().hex[:6])
            pids = {"ingest": ingest.pid(), "kafka": broker.pid()}

            def webhooks(name: str, seconds: float) -> tuple[Result, Counter[str]]:
                with CpuUse(pids) as used:
                    result = asyncio.run(
                        load(name, "127.0.0.1", cfg.ingest_port, seconds=seconds,
                             concurrency=args.concurrency)
                    )  # fmt: skip
                return result, Counter(used.used)

            print(f"warm-up: {args.warmup:.0f} s of single webhooks", file=sys.stderr)
            webhooks("warm-up", args.warmup)
            single, single_cpu = webhooks("webhook", args.seconds / 2)
            before = hr_ends(cfg.bootstrap_servers)
            print(f"import: {args.rows:,} rows", file=sys.stderr)
            meter = CpuMeter({name: [pid] for name, pid in pids.items() if pid is not None})
            meter.start()
            wall, ops_cpu, summary = run_import(cfg, hr_file)
            meter.stop()
            written, employees = new_records(cfg.bootstrap_servers, before, ids)
            second, second_cpu = webhooks("webhook", args.seconds / 2)
            single.add(second)
            single_cpu.update(second_cpu)
        finally:
            stop(ingest)
            stop_kafka(cfg.run_dir)

    import_cpu = {**meter.spent(), "onboarding-ops": ops_cpu}
    accepted = accepted_in(summary)
    complete = written == employees == accepted == args.rows
    print(summary)
    print(
        f"hr.users.v1: {written:,} new records, {employees:,} of the {args.rows:,} imported "
        f"employees; the summary says {accepted:,} accepted: {'OK' if complete else 'MISMATCH'}"
    )
    print(f"{'path':<44} {'records':>9} {'seconds':>8} {'records/s':>10}  CPU per record (µs)")
    for label, count, seconds, cpu in (
        (f"single webhook ({args.concurrency} connections)", single.accepted, single.seconds,
         single_cpu),
        ("onboarding-ops import (batches of 1,000)", args.rows, wall, import_cpu),
    ):  # fmt: skip
        per = ", ".join(f"{n} {s / max(count, 1) * 1e6:.0f}" for n, s in cpu.items())
        print(f"{label:<44} {count:>9,} {seconds:>8.1f} {count / seconds:>10,.0f}  {per}")
    print(f"import / single webhook: {args.rows / wall / single.rate:.2f}x; single webhook "
          f"p99 {single.percentile(0.99):.1f} ms, other answers {single.other}")  # fmt: skip
    if not complete:
        sys.exit(1)


if __name__ == "__main__":
    main()
