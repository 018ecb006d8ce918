"""The three-node cluster the fault-injection runs use: it starts, replicates every topic
three ways, and keeps taking acks=all writes with one node killed."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from onboarding_devstack.kafka_cluster import (
    Cluster,
    signal_node,
    start_cluster,
    start_node,
    stop_cluster,
    wait_for_brokers,
)
from onboarding_runtime.kafka import EventProducer, KafkaConnection, TopicSpec, ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[Cluster, Path]]:
    nodes = Cluster.on_free_ports(groups=("enrich",))
    run_dir, data_dir = tmp_path / "run", tmp_path / "data"
    await asyncio.to_thread(start_cluster, ROOT, run_dir, data_dir, nodes)
    try:
        yield nodes, tmp_path
    finally:
        await asyncio.to_thread(stop_cluster, run_dir, nodes)


async def test_a_topic_is_replicated_three_ways_and_survives_a_killed_node(
    cluster: tuple[Cluster, Path],
) -> None:
    nodes, base = cluster
    run_dir, data_dir = base / "run", base / "data"
    await ensure_topics(
        KafkaConnection(nodes.bootstrap_servers),
        (TopicSpec("replicated", partitions=3),),
        replication_factor=3,
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=nodes.bootstrap_servers)
    await admin.start()
    try:
        [described] = await admin.describe_topics(["replicated"])
    finally:
        await admin.close()
    assert {len(p["replicas"]) for p in described["partitions"]} == {3}

    producer = EventProducer(KafkaConnection(nodes.bootstrap_servers), timeout_s=30)
    await producer.start()
    try:
        before = await producer.publish("replicated", key="k", value=b"before")
        signal_node(run_dir, nodes.nodes[0], signal.SIGKILL)
        after = await producer.publish("replicated", key="k", value=b"after")
    finally:
        await producer.stop()
    assert after.offset > before.offset  # acks=all with two of three in sync
    await asyncio.to_thread(start_node, ROOT, run_dir, data_dir, nodes, nodes.nodes[0])
    await asyncio.to_thread(wait_for_brokers, nodes, run_dir, timeout=120)
