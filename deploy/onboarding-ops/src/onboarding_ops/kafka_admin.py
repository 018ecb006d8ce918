"""The admin requests `topics` and the commands need: create, describe, alter configs.

What to do with what they return (which drift to fix, which to report) is `reconcile.py`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from onboarding_runtime.kafka import KafkaConnection, TopicSpec
from onboarding_runtime.kafka.connection import UNREACHABLE
from onboarding_runtime.kafka.probe import why_unreachable

from onboarding_ops.errors import OpsError
from onboarding_ops.topics import Durability, wanted_configs

TOPIC_ALREADY_EXISTS = 36
# Where a topic's config value comes from (DescribeConfigs `config_source`).
DYNAMIC_TOPIC_CONFIG = 1
# How long a created topic or a changed configuration may take to reach the brokers.
VISIBLE_TIMEOUT_S = 15.0


@contextlib.asynccontextmanager
async def admin_client(
    kafka: KafkaConnection, timeout_s: float
) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(**kafka.aiokafka(), request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout=timeout_s)
    except (KafkaError, OSError, TimeoutError) as exc:
        await admin.close()
        raise await unreachable(kafka, timeout_s) from exc
    try:
        yield admin
    finally:
        await admin.close()


async def unreachable(kafka: KafkaConnection, timeout_s: float) -> OpsError:
    """The error a command ends with when it cannot reach Kafka, saying why (`authentication
    failed`, `TLS handshake failed` or `unreachable`)."""
    cause = await why_unreachable(kafka, timeout_s)
    if cause == UNREACHABLE:
        return OpsError(f"Kafka is unreachable at {kafka.bootstrap_servers}")
    return OpsError(f"Kafka at {kafka.bootstrap_servers} refused this client: {cause}")


async def ensure_topic(admin: AIOKafkaAdminClient, spec: TopicSpec, durability: Durability) -> None:
    """Create one topic if missing (commands that write to it call this first)."""
    if spec.name not in set(await admin.list_topics()):
        await create_topics(admin, [spec], durability)


async def create_topics(
    admin: AIOKafkaAdminClient, specs: Sequence[TopicSpec], durability: Durability
) -> None:
    """Created with their durability configs from the start: no moment with weaker ones."""
    new = [
        NewTopic(
            name=s.name,
            num_partitions=s.partitions,
            replication_factor=durability.replication_factor,
            topic_configs=wanted_configs(s, durability),
        )
        for s in specs
    ]
    try:
        response = await admin.create_topics(new)
    except TopicAlreadyExistsError:
        return  # another process won the race; its spec is ours
    for topic, code, *rest in getattr(response, "topic_errors", ()):
        if code not in (0, TOPIC_ALREADY_EXISTS):
            message = rest[0] if rest and rest[0] else f"error code {code}"
            raise OpsError(f"could not create topic {topic}: {message}")
    await _until_visible(admin, {s.name: s.partitions for s in specs})


async def _until_visible(
    admin: AIOKafkaAdminClient, partitions: dict[str, int], timeout_s: float = VISIBLE_TIMEOUT_S
) -> None:
    """A created topic reaches the brokers' metadata a moment later; readers need it there."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        described = await admin.describe_topics(list(partitions))
        ready = {
            t["topic"]
            for t in described
            if t["error_code"] == 0 and len(t["partitions"]) >= partitions[t["topic"]]
        }
        if ready >= set(partitions):
            return
        if asyncio.get_running_loop().time() > deadline:
            missing = ", ".join(sorted(set(partitions) - ready))
            raise OpsError(f"topics created but not visible after {timeout_s:.0f}s: {missing}")
        await asyncio.sleep(0.1)


async def describe_replicas(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, list[int]]:
    """Per topic: the number of replicas of each partition, in partition order."""
    if not names:
        return {}
    result: dict[str, list[int]] = {}
    for topic in await admin.describe_topics(names):
        name, code = topic["topic"], topic["error_code"]
        if code:
            raise OpsError(f"could not describe topic {name}: error code {code}")
        partitions = sorted(topic["partitions"], key=lambda p: int(p["partition"]))
        result[name] = [len(p["replicas"]) for p in partitions]
    return result


async def describe_configs(
    admin: AIOKafkaAdminClient, names: list[str]
) -> dict[str, dict[str, tuple[str, int]]]:
    """Per topic: config name -> (value, source)."""
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    result: dict[str, dict[str, tuple[str, int]]] = {}
    for response in await admin.describe_configs(resources):
        for code, message, _type, name, entries in response.resources:
            if code:
                raise OpsError(f"could not describe topic {name}: {message or code}")
            result[name] = {e[0]: (e[1], e[3]) for e in entries}
    return result


async def alter_configs(admin: AIOKafkaAdminClient, name: str, configs: dict[str, str]) -> None:
    """Set a topic's dynamic configs to exactly `configs`, and wait until the broker shows them.

    AlterConfigs replaces every dynamic config of the topic (aiokafka has no
    IncrementalAlterConfigs), so callers pass the overrides they keep along with the new ones.
    """
    resource = ConfigResource(ConfigResourceType.TOPIC, name, configs)
    responses: list[Any] = await admin.alter_configs([resource])
    for response in responses:
        for code, message, _type, topic in response.resources:
            if code:
                raise OpsError(f"could not change the configuration of {topic}: {message or code}")
    # The brokers apply it a moment later; return once a describe shows it.
    deadline = asyncio.get_running_loop().time() + VISIBLE_TIMEOUT_S
    while True:
        current = (await describe_configs(admin, [name]))[name]
        if all(current.get(k, ("", 0))[0] == v for k, v in configs.items()):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise OpsError(f"the new configuration of {name} did not show within the deadline")
        await asyncio.sleep(0.1)
