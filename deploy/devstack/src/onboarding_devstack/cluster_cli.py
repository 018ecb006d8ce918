"""`make up-cluster` / `make down-cluster`: the cluster stack in `.data/cluster/`."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from onboarding_devstack.cluster_run import ClusterRun
from onboarding_devstack.cluster_stack import LAYOUT_FILE, SERVICES, ClusterStack

# Demo settings: the simulator answers in 100 ms, as a real org does.
CLUSTER_ENV = {"OKTA_SIM_LATENCY_MS": "100", "LOG_FORMAT": "json"}


def cluster_dir(root: Path) -> Path:
    return root / ".data" / "cluster"


def up(root: Path) -> int:
    began = time.monotonic()
    folder = cluster_dir(root)
    if (folder / LAYOUT_FILE).is_file():
        stack = ClusterStack.load(folder)
    else:
        stack = ClusterStack.on_free_ports(root, folder, extra_env=CLUSTER_ENV)
    run = ClusterRun(stack)
    try:
        asyncio.run(run.start())
    except RuntimeError as exc:
        print(f"make up-cluster: {exc}", file=sys.stderr)
        return 1
    print(f"cluster stack ready in {time.monotonic() - began:.1f}s")
    for service in SERVICES:
        urls = "  ".join(stack.url(service, index) for index in run.running_replicas(service))
        print(f"  {service:<15} {urls}")
    print(f"  kafka           {stack.bootstrap_servers}  (3 nodes, RF 3, min ISR 2)")
    print(f"  mongodb         {stack.mongodb_url}")
    print(f"  okta simulator  {stack.okta_url}")
    print(f"  toxiproxy       http://127.0.0.1:{stack.toxiproxy_port}")
    print(f"  logs            {stack.run_dir / 'logs'}")
    return 0


def down(root: Path) -> int:
    folder = cluster_dir(root)
    if not (folder / LAYOUT_FILE).is_file():
        print("stopped: nothing (no cluster stack)")
        return 0
    stopped = asyncio.run(ClusterRun(ClusterStack.load(folder)).stop())
    print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    return 0
