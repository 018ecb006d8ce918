"""Starting, breaking and stopping a `ClusterStack`: what `make chaos` and `make up-cluster` do.

Every fault the proof needs is one call here: kill -9 or pause a Kafka node, kill -9 or
start a service replica, kill -9 and restart FerretDB, and through Toxiproxy cut, slow or
reset every connection of one client group to Kafka, or query-service's to FerretDB, or
enrich-service's to Okta.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from confluent_kafka.admin import AdminClient

from onboarding_devstack.cluster_stack import GROUP, SERVICES, ClusterStack
from onboarding_devstack.ferretdb import ensure_ferretdb, start_ferretdb, stop_ferretdb
from onboarding_devstack.kafka import ensure_kafka
from onboarding_devstack.kafka_cluster import (
    Node,
    signal_node,
    start_cluster,
    start_node,
    stop_cluster,
    wait_for_brokers,
)
from onboarding_devstack.processes import Managed, StartError, start, stop
from onboarding_devstack.toxics import Proxy, ProxyGroup, Toxiproxy
from onboarding_devstack.toxiproxy import api_url, ensure_toxiproxy, start_toxiproxy, stop_toxiproxy

SIMULATOR = "okta-simulator"


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


class ClusterRun:
    def __init__(self, stack: ClusterStack) -> None:
        self.stack = stack
        self.toxiproxy = Toxiproxy(api_url(stack.toxiproxy_port))
        self.kafka_links: dict[str, ProxyGroup] = {}
        self.ferretdb_link = ProxyGroup(())
        self.okta_link = ProxyGroup(())

    # -- start and stop ---------------------------------------------------------------

    async def start(self, *, replicas: int = 2, within_s: float = 180.0) -> None:
        stack = self.stack
        stack.save()
        await asyncio.to_thread(ensure_kafka, stack.root)
        await asyncio.to_thread(ensure_ferretdb, stack.root)
        await asyncio.to_thread(ensure_toxiproxy, stack.root)
        await asyncio.to_thread(start_toxiproxy, stack.root, stack.run_dir, stack.toxiproxy_port)
        await self._proxies()
        await asyncio.to_thread(
            start_cluster, stack.root, stack.run_dir, stack.data_dir / "kafka", stack.kafka
        )
        await self.start_ferretdb()
        await asyncio.to_thread(self._topics)
        self._start(SIMULATOR, _bin(SIMULATOR), {**stack.simulator_env(), **stack.extra_env})
        await self._until_ok(f"{stack.okta_url}/v1/healthz", SIMULATOR, within_s)
        for service in SERVICES:
            for index in range(1, replicas + 1):
                self.start_replica(service, index)
        await asyncio.gather(
            *(
                self.until_ready(service, index, within_s=within_s)
                for service in SERVICES
                for index in range(1, replicas + 1)
            )
        )

    async def _proxies(self) -> None:
        api, stack = self.toxiproxy, self.stack
        await api.delete_all()
        for group in GROUP.values():
            links: list[Proxy] = []
            for node in stack.kafka.nodes:
                listener = node.listener(group)
                links.append(
                    await api.create(
                        f"{group}-kafka-{node.node_id}",
                        f"127.0.0.1:{listener.advertised_port}",
                        f"127.0.0.1:{listener.bind_port}",
                    )
                )
            self.kafka_links[group] = ProxyGroup(links)
        ferretdb = await api.create(
            "query-ferretdb", f"127.0.0.1:{stack.mongo_proxy_port}", f"127.0.0.1:{stack.mongo_port}"
        )
        okta = await api.create(
            "enrich-okta", f"127.0.0.1:{stack.okta_proxy_port}", f"127.0.0.1:{stack.okta_sim_port}"
        )
        self.ferretdb_link, self.okta_link = ProxyGroup([ferretdb]), ProxyGroup([okta])

    def _topics(self) -> None:
        env = {**os.environ, **self.stack.ops_env()}
        done = subprocess.run(
            [_bin("onboarding-ops"), "topics"], env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise StartError(f"onboarding-ops topics failed:\n{done.stdout}{done.stderr}")

    async def stop(self) -> list[str]:
        stack, stopped = self.stack, []
        for service in SERVICES:
            for index in range(1, len(stack.ports[service]) + 1):
                if stop(self._managed(stack.replica(service, index))):
                    stopped.append(stack.replica(service, index))
        if stop(self._managed(SIMULATOR)):
            stopped.append(SIMULATOR)
        if await asyncio.to_thread(stop_ferretdb, stack.run_dir):
            stopped.append("ferretdb")
        stopped += await asyncio.to_thread(stop_cluster, stack.run_dir, stack.kafka)
        await self.toxiproxy.aclose()
        if await asyncio.to_thread(stop_toxiproxy, stack.run_dir):
            stopped.append("toxiproxy")
        return stopped

    # -- service replicas ---------------------------------------------------------------

    def _managed(self, name: str) -> Managed:
        return Managed(name, self.stack.run_dir)

    def _start(self, name: str, binary: str, env: dict[str, str]) -> None:
        managed = self._managed(name)
        if not managed.running():
            start(managed, [binary], env=env, cwd=self.stack.root, record_exit=True)

    def start_replica(self, service: str, index: int) -> None:
        stack = self.stack
        self._start(stack.replica(service, index), _bin(service), stack.env(service, index))

    async def until_ready(self, service: str, index: int, *, within_s: float = 120.0) -> None:
        name = self.stack.replica(service, index)
        await self._until_ok(f"{self.stack.url(service, index)}/v1/readyz", name, within_s)

    def kill_replica(self, service: str, index: int) -> None:
        """kill -9 of the replica (its whole process group: the service under its shell)."""
        pid = self._managed(self.stack.replica(service, index)).pid()
        if pid is not None:
            os.killpg(pid, signal.SIGKILL)

    def stop_replica(self, service: str, index: int) -> None:
        """A graceful stop (scaling down): SIGTERM, drain, commit."""
        stop(self._managed(self.stack.replica(service, index)))

    def running_replicas(self, service: str) -> list[int]:
        return [
            index
            for index in range(1, len(self.stack.ports[service]) + 1)
            if self._managed(self.stack.replica(service, index)).running()
        ]

    async def _until_ok(self, url: str, name: str, within_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        async with httpx.AsyncClient(timeout=3.0) as client:
            while True:
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                managed = self._managed(name)
                if not managed.running() and managed.exited():
                    raise StartError(managed.exit_report())
                if loop.time() > deadline:
                    raise StartError(f"{name} not ready at {url} after {within_s:.0f}s")
                await asyncio.sleep(0.25)

    # -- Kafka nodes --------------------------------------------------------------------

    def leader_of(self, topic: str, partition: int = 0) -> int:
        """The node id leading `topic`'s `partition` now."""
        admin = AdminClient({"bootstrap.servers": self.stack.bootstrap_servers})
        metadata = admin.list_topics(topic, timeout=10)
        return int(metadata.topics[topic].partitions[partition].leader)

    def kill_node(self, node_id: int) -> None:
        signal_node(self.stack.run_dir, self._node(node_id), signal.SIGKILL)

    def pause_node(self, node_id: int) -> None:
        signal_node(self.stack.run_dir, self._node(node_id), signal.SIGSTOP)

    def resume_node(self, node_id: int) -> None:
        signal_node(self.stack.run_dir, self._node(node_id), signal.SIGCONT)

    async def restart_node(self, node_id: int, *, within_s: float = 120.0) -> None:
        stack = self.stack
        await asyncio.to_thread(
            start_node,
            stack.root,
            stack.run_dir,
            stack.data_dir / "kafka",
            stack.kafka,
            self._node(node_id),
        )
        await asyncio.to_thread(wait_for_brokers, stack.kafka, stack.run_dir, timeout=within_s)

    def _node(self, node_id: int) -> Node:
        return next(node for node in self.stack.kafka.nodes if node.node_id == node_id)

    # -- FerretDB -----------------------------------------------------------------------

    async def start_ferretdb(self) -> None:
        stack = self.stack
        await asyncio.to_thread(
            start_ferretdb, stack.root, stack.run_dir, stack.data_dir / "ferretdb", stack.mongo_port
        )

    def kill_ferretdb(self) -> None:
        pid = self._managed("ferretdb").pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)

    def log_files(self) -> list[Path]:
        return sorted((self.stack.run_dir / "logs").glob("*.log"))
