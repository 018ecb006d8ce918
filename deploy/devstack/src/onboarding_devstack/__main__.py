"""`make up` / `make down` / `make clean`: the local stack from the repository root.

`onboarding-stack status` lists each process; one that ended on its own is reported with its
exit status and log file, and the command then exits 1. `onboarding-stack tools` installs
the broker, the database and the network-fault proxy (`make test` runs it first).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from onboarding_devstack import cluster_cli
from onboarding_devstack.ferretdb import ensure_ferretdb
from onboarding_devstack.kafka import ensure_kafka
from onboarding_devstack.stack import (
    clean,
    config_from_env,
    create_topics,
    start_apps,
    start_infra,
    status,
    stop_all,
)
from onboarding_devstack.toxiproxy import ensure_toxiproxy


def _root() -> Path:
    return Path.cwd()


def up() -> int:
    began = time.monotonic()
    cfg = config_from_env(_root())
    try:
        started = start_infra(cfg)
        create_topics(cfg)
        started += start_apps(cfg)
    except RuntimeError as exc:  # StartError, GoToolchainError: one line saying what to do
        print(f"make up: {exc}", file=sys.stderr)
        return 1
    print(
        f"started: {', '.join(started) or 'nothing (all running)'}"
        f" in {time.monotonic() - began:.1f}s"
    )
    print(f"  ingest-service  {cfg.url('ingest-service')}  POST /v1/hr/webhook")
    print(f"  query-service   {cfg.url('query-service')}  GET /v1/users/{{id}}")
    print(f"  enrich-service  {cfg.url('enrich-service')}  /v1/readyz /metrics")
    print(f"  okta            {cfg.okta_url}")
    print(f"  kafka           {cfg.bootstrap_servers}")
    print(f"  mongodb         {cfg.mongodb_url}")
    print(f"  logs            {cfg.run_dir / 'logs'}")
    print("  operators       .venv/bin/onboarding-ops --help")
    return 0


def report() -> int:
    """1 if a process ended on its own (a service whose consumer failed, say), else 0."""
    lines = status(config_from_env(_root()))
    for name, state, _ in lines:
        print(f"  {name:<16}{state}")
    return 1 if any(exited for _, _, exited in lines) else 0


def tools() -> int:
    """Install what the stack and the tests run (once; later calls only check)."""
    root = _root()
    began = time.monotonic()
    try:
        kafka = ensure_kafka(root)
        ferretdb = ensure_ferretdb(root)
        toxiproxy = ensure_toxiproxy(root)
    except RuntimeError as exc:  # StartError, GoToolchainError: one line saying what to do
        print(f"make tools: {exc}", file=sys.stderr)
        return 1
    print(f"tools ready in {time.monotonic() - began:.1f}s")
    print(f"  kafka      {kafka}")
    print(f"  ferretdb   {ferretdb}")
    print(f"  toxiproxy  {toxiproxy}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="onboarding-stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up", "down", "clean", "status", "tools"])
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="three Kafka nodes, two replicas of each service, Toxiproxy (.data/cluster)",
    )
    args = parser.parse_args()
    if args.cluster and args.command in ("up", "down"):
        sys.exit(cluster_cli.up(_root()) if args.command == "up" else cluster_cli.down(_root()))
    if args.command == "up":
        sys.exit(up())
    if args.command == "status":
        sys.exit(report())
    if args.command == "tools":
        sys.exit(tools())
    cfg = config_from_env(_root())
    if args.command == "down":
        stopped = stop_all(cfg)
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    else:
        clean(cfg)
        print(
            f"stopped everything and deleted {cfg.data_dir / 'kafka'}, {cfg.data_dir / 'ferretdb'}"
        )


if __name__ == "__main__":
    main()
