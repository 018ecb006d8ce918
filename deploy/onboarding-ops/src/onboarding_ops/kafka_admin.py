"""Create the missing topics and bring the existing ones' configurations back to the spec.

Idempotent and never destructive: nothing is deleted, and partitions are only reported,
never added, since more partitions would move employees to other partitions and break the
per-employee order the platform relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from onboarding_runtime.kafka import TopicSpec

from onboarding_ops.errors import OpsError

TOPIC_ALREADY_EXISTS = 36
# Where a topic's config value comes from (DescribeConfigs `config_source`).
DYNAMIC_TOPIC_CONFIG = 1
# How long a created topic or a changed configuration may take to reach the brokers.
VISIBLE_TIMEOUT_S = 15.0

State = Literal["created", "ok", "fixed", "drift", "missing"]


@dataclass(frozen=True)
class TopicReport:
    name: str
    state: State
    details: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def admin_client(bootstrap: str, timeout_s: float) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await asyncio.wait_for(admin.start(), timeout=timeout_s)
    except (KafkaError, OSError, TimeoutError) as exc:
        await admin.close()
        raise OpsError(f"Kafka is unreachable at {bootstrap} ({type(exc).__name__})") from exc
    try:
        yield admin
    finally:
        await admin.close()


async def reconcile_topics(
    admin: AIOKafkaAdminClient,
    specs: Sequence[TopicSpec],
    *,
    replication_factor: int,
    fix: bool = True,
) -> list[TopicReport]:
    """One report per spec, in order. With `fix=False` nothing is changed (a dry check)."""
    existing = set(await admin.list_topics())
    missing = [s for s in specs if s.name not in existing]
    if missing and fix:
        await _create(admin, missing, replication_factor)
    present = [s for s in specs if s.name in existing]
    partitions = await _partition_counts(admin, [s.name for s in present])
    configs = await _configs(admin, [s.name for s in present])
    reports: dict[str, TopicReport] = {
        s.name: TopicReport(s.name, "created" if fix else "missing") for s in missing
    }
    for spec in present:
        reports[spec.name] = await _check(
            admin, spec, partitions[spec.name], configs[spec.name], fix
        )
    return [reports[s.name] for s in specs]


async def ensure_topic(
    admin: AIOKafkaAdminClient, spec: TopicSpec, replication_factor: int
) -> None:
    """Create one topic if missing (commands that write to it call this first)."""
    if spec.name not in set(await admin.list_topics()):
        await _create(admin, [spec], replication_factor)


async def _create(
    admin: AIOKafkaAdminClient, specs: Sequence[TopicSpec], replication_factor: int
) -> None:
    new = [
        NewTopic(
            name=s.name,
            num_partitions=s.partitions,
            replication_factor=replication_factor,
            topic_configs=dict(s.configs),
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


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}


async def _configs(
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


async def _check(
    admin: AIOKafkaAdminClient,
    spec: TopicSpec,
    partitions: int,
    current: dict[str, tuple[str, int]],
    fix: bool,
) -> TopicReport:
    details: list[str] = []
    unfixable = False
    if partitions != spec.partitions:
        unfixable = True
        details.append(
            f"{partitions} partitions, spec says {spec.partitions}: left as is "
            "(changing them would move employees to other partitions)"
        )
    drift = {
        key: want
        for key, want in spec.configs.items()
        if key not in current or current[key][0] != want
    }
    for key, want in drift.items():
        have = current[key][0] if key in current else "unset"
        details.append(f"{key}={have}, spec says {want}")
    if drift and fix:
        # AlterConfigs replaces every dynamic config of the topic, so keep the others.
        keep = {k: v for k, (v, source) in current.items() if source == DYNAMIC_TOPIC_CONFIG}
        await _alter(admin, spec.name, {**keep, **spec.configs})
        return TopicReport(spec.name, "drift" if unfixable else "fixed", details)
    return TopicReport(spec.name, "drift" if details else "ok", details)


async def _alter(admin: AIOKafkaAdminClient, name: str, configs: dict[str, str]) -> None:
    resource = ConfigResource(ConfigResourceType.TOPIC, name, configs)
    responses: list[Any] = await admin.alter_configs([resource])
    for response in responses:
        for code, message, _type, topic in response.resources:
            if code:
                raise OpsError(f"could not change the configuration of {topic}: {message or code}")
    # The brokers apply it a moment later; return once a describe shows it.
    deadline = asyncio.get_running_loop().time() + VISIBLE_TIMEOUT_S
    while True:
        current = (await _configs(admin, [name]))[name]
        if all(current.get(k, ("", 0))[0] == v for k, v in configs.items()):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise OpsError(f"the new configuration of {name} did not show within the deadline")
        await asyncio.sleep(0.1)
