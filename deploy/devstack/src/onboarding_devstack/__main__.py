"""`make up` / `make down` / `make clean`: the local stack from the repository root."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from onboarding_devstack.stack import (
    clean,
    config_from_env,
    create_topics,
    start_apps,
    start_infra,
    stop_all,
)


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


def main() -> None:
    parser = argparse.ArgumentParser(prog="onboarding-stack", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "clean"])
    args = parser.parse_args()
    if args.command == "up":
        sys.exit(up())
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
