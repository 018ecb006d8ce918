"""Three Kafka nodes on this machine, each broker and controller: a three-voter KRaft quorum.

For the fault-injection runs (`make chaos`): every topic, Kafka's own included (consumer
offsets, transaction state), has replication factor 3, `min.insync.replicas=2` and unclean
leader election off, so one node down of three loses nothing and stops nothing.

A node may carry one extra listener per proxied client group (`ClientGroup`): bound on a port
of its own and *advertised* at the port of a Toxiproxy proxy in front of it. A client that
bootstraps through its group's proxies is told those proxies as the brokers' addresses, so
every broker connection it makes goes through a proxy of its group, and cutting the group's
proxies cuts the client off entirely (one proxy on the bootstrap address would not).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from onboarding_devstack.kafka import (
    HOST,
    launch_node,
    metadata_brokers,
    new_cluster_id,
    stop_kafka,
    wait_serving,
)
from onboarding_devstack.processes import Managed, StartError, free_port

REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2


@dataclass(frozen=True)
class Listener:
    """A client group's way into one node: bound here, advertised at its proxy."""

    group: str  # upper case, the listener's name
    bind_port: int
    advertised_port: int


@dataclass(frozen=True)
class Node:
    node_id: int
    port: int  # PLAINTEXT: between brokers, and for clients that are never cut off
    controller_port: int
    listeners: tuple[Listener, ...] = ()

    @property
    def name(self) -> str:
        return f"kafka-{self.node_id}"

    def listener(self, group: str) -> Listener:
        return next(item for item in self.listeners if item.group == group.upper())


@dataclass(frozen=True)
class Cluster:
    nodes: tuple[Node, ...]

    @classmethod
    def on_free_ports(cls, size: int = 3, groups: tuple[str, ...] = ()) -> Cluster:
        """`size` nodes on free ports, each with a listener per client group in `groups`."""
        return cls(
            tuple(
                Node(
                    node_id=n,
                    port=free_port(),
                    controller_port=free_port(),
                    listeners=tuple(
                        Listener(group.upper(), free_port(), free_port()) for group in groups
                    ),
                )
                for n in range(1, size + 1)
            )
        )

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"{HOST}:{node.port}" for node in self.nodes)

    def bootstrap_for(self, group: str) -> str:
        """The group's bootstrap: its proxies' addresses (what its listeners advertise)."""
        return ",".join(f"{HOST}:{node.listener(group).advertised_port}" for node in self.nodes)

    @property
    def voters(self) -> str:
        return ",".join(f"{node.node_id}@{HOST}:{node.controller_port}" for node in self.nodes)


def node_properties(cluster: Cluster, node: Node, data_dir: Path) -> str:
    extra = node.listeners
    listeners = [
        f"PLAINTEXT://{HOST}:{node.port}",
        f"CONTROLLER://{HOST}:{node.controller_port}",
        *(f"{item.group}://{HOST}:{item.bind_port}" for item in extra),
    ]
    advertised = [
        f"PLAINTEXT://{HOST}:{node.port}",
        *(f"{item.group}://{HOST}:{item.advertised_port}" for item in extra),
    ]
    protocols = ["PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT"]
    protocols += [f"{item.group}:PLAINTEXT" for item in extra]
    replicas, min_isr = str(REPLICATION_FACTOR), str(MIN_INSYNC_REPLICAS)
    settings = {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "controller.quorum.voters": cluster.voters,
        "listeners": ",".join(listeners),
        "advertised.listeners": ",".join(advertised),
        "listener.security.protocol.map": ",".join(protocols),
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data_dir / "kraft"),
        "num.partitions": "1",
        "default.replication.factor": replicas,
        "min.insync.replicas": min_isr,
        "unclean.leader.election.enable": "false",
        "offsets.topic.replication.factor": replicas,
        "offsets.topic.num.partitions": "6",
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "transaction.state.log.num.partitions": "6",
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "auto.create.topics.enable": "false",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "2",
        # A node that comes back catches up and takes its leaderships back soon.
        "leader.imbalance.check.interval.seconds": "10",
        "replica.lag.time.max.ms": "10000",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _cluster_id(data_dir: Path) -> str:
    """One id for all nodes, kept so a restarted cluster formats nothing again."""
    path = data_dir / "cluster.id"
    if not path.is_file():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(new_cluster_id() + "\n")
    return path.read_text().strip()


def start_node(root: Path, run_dir: Path, data_dir: Path, cluster: Cluster, node: Node) -> Managed:
    """Start one node in the background (its data in `data_dir/<name>`)."""
    home = data_dir / node.name
    return launch_node(
        root,
        Managed(node.name, run_dir),
        home,
        node_properties(cluster, node, home),
        cluster_id=_cluster_id(data_dir),
    )


def start_cluster(
    root: Path, run_dir: Path, data_dir: Path, cluster: Cluster, *, timeout: float = 120.0
) -> None:
    """Every node that is not running; returns once each serves metadata listing them all."""
    for node in cluster.nodes:
        if not Managed(node.name, run_dir).running():
            start_node(root, run_dir, data_dir, cluster, node)
    for node in cluster.nodes:
        wait_serving(Managed(node.name, run_dir), node.port, timeout=timeout)
    wait_for_brokers(cluster, run_dir, timeout=timeout)


def wait_for_brokers(cluster: Cluster, run_dir: Path, *, timeout: float) -> None:
    """Until every node lists every broker (all registered with the quorum)."""
    deadline = time.monotonic() + timeout
    size = len(cluster.nodes)
    while not all(metadata_brokers(node.port) == size for node in cluster.nodes):
        if time.monotonic() > deadline:
            raise StartError(f"the cluster does not list {size} brokers after {timeout:.0f}s")
        time.sleep(0.2)


def signal_node(run_dir: Path, node: Node, sig: signal.Signals) -> None:
    """SIGKILL (a crash), SIGSTOP (a hung node) or SIGCONT to one node."""
    pid = Managed(node.name, run_dir).pid()
    if pid is None:
        raise StartError(f"{node.name} is not running")
    os.kill(pid, sig)


def stop_cluster(run_dir: Path, cluster: Cluster) -> list[str]:
    stopped = []
    for node in cluster.nodes:
        pid = Managed(node.name, run_dir).pid()
        if pid is not None:
            os.kill(pid, signal.SIGCONT)  # a paused node cannot stop
        if stop_kafka(run_dir, node.name):
            stopped.append(node.name)
    return stopped
