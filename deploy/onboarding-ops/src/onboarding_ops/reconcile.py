"""Compare every topic with what this deployment asks for: fix what can change in place,
report what only an operator can change.

Fixed in place, idempotently: configuration drift (the spec's configs, `min.insync.replicas`,
`unclean.leader.election.enable`), with AlterConfigs, keeping the topic's other overrides.

Only reported (`needs_operator`), never changed:
- the replication factor: changing it copies partitions between brokers, a reassignment
  (`kafka-reassign-partitions`) an operator plans, throttles and verifies;
- the partition count: more partitions would move employees to other partitions and break
  the per-employee order the platform relies on; fewer is impossible;
- a `min.insync.replicas` above the replicas a partition has now: it would refuse every
  write to the topic, so it waits until the reassignment gave the partitions their replicas.

Nothing is ever deleted.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from aiokafka.admin import AIOKafkaAdminClient
from onboarding_runtime.kafka import TopicSpec

from onboarding_ops.kafka_admin import (
    DYNAMIC_TOPIC_CONFIG,
    alter_configs,
    create_topics,
    describe_configs,
    describe_replicas,
)
from onboarding_ops.topics import Durability, wanted_configs

MIN_INSYNC = "min.insync.replicas"

Kind = Literal["config", "replication", "partitions"]
State = Literal["created", "ok", "fixed", "drift", "missing"]

# Where a wanted value comes from, named in the report: the knob to turn if it looks wrong.
_SOURCE = {
    MIN_INSYNC: "KAFKA_MIN_INSYNC_REPLICAS says",
    "unclean.leader.election.enable": "must be",
}


@dataclass(frozen=True)
class Drift:
    kind: Kind
    text: str
    fixed: bool = False

    @property
    def needs_operator(self) -> bool:
        return self.kind != "config"

    def __str__(self) -> str:
        if self.fixed:
            return f"{self.text}: fixed"
        return f"{self.text}: left as is" if self.needs_operator else self.text


@dataclass(frozen=True)
class TopicReport:
    name: str
    state: State
    drifts: tuple[Drift, ...] = ()

    @property
    def details(self) -> list[str]:
        return [str(d) for d in self.drifts]

    @property
    def needs_operator(self) -> bool:
        return any(d.needs_operator for d in self.drifts)


async def reconcile_topics(
    admin: AIOKafkaAdminClient,
    specs: Sequence[TopicSpec],
    *,
    durability: Durability,
    fix: bool = True,
) -> list[TopicReport]:
    """One report per spec, in order. With `fix=False` nothing is changed (a dry check)."""
    existing = set(await admin.list_topics())
    missing = [s for s in specs if s.name not in existing]
    if missing and fix:
        await create_topics(admin, missing, durability)
    present = [s for s in specs if s.name in existing]
    replicas = await describe_replicas(admin, [s.name for s in present])
    configs = await describe_configs(admin, [s.name for s in present])
    reports: dict[str, TopicReport] = {
        s.name: TopicReport(s.name, "created" if fix else "missing") for s in missing
    }
    for spec in present:
        current = configs[spec.name]
        wanted = wanted_configs(spec, durability)
        held = _unreachable_min_insync(wanted, current, replicas[spec.name])
        if held:
            del wanted[MIN_INSYNC]
        drifts = [
            *_layout_drift(spec, replicas[spec.name], durability),
            *([held] if held else []),
            *_config_drift(wanted, current),
        ]
        if fix and any(d.kind == "config" for d in drifts):
            # The topic's other dynamic overrides (an operator's own) are kept.
            keep = {k: v for k, (v, source) in current.items() if source == DYNAMIC_TOPIC_CONFIG}
            await alter_configs(admin, spec.name, {**keep, **wanted})
            drifts = [dataclasses.replace(d, fixed=d.kind == "config") for d in drifts]
        reports[spec.name] = _report(spec.name, drifts)
    return [reports[s.name] for s in specs]


def _report(name: str, drifts: list[Drift]) -> TopicReport:
    state: State = "ok"
    if any(not d.fixed for d in drifts):
        state = "drift"
    elif drifts:
        state = "fixed"
    return TopicReport(name, state, tuple(drifts))


def _layout_drift(spec: TopicSpec, replicas: list[int], durability: Durability) -> list[Drift]:
    """Partition count and replicas per partition: what AlterConfigs cannot change."""
    drifts = []
    total = len(replicas)
    if total != spec.partitions:
        drifts.append(
            Drift("partitions", f"partition count drift: {total}, spec says {spec.partitions}")
        )
    wanted = durability.replication_factor
    off = sorted((n, count) for n, count in Counter(replicas).items() if n != wanted)
    if off:
        have = ", ".join(_partitions_with(n, count, total) for n, count in off)
        drifts.append(
            Drift(
                "replication",
                f"replication factor drift: {have}, KAFKA_REPLICATION_FACTOR says {wanted}",
            )
        )
    return drifts


def _unreachable_min_insync(
    wanted: dict[str, str], current: dict[str, tuple[str, int]], replicas: list[int]
) -> Drift | None:
    """A raise of `min.insync.replicas` beyond the replicas some partition has: applied now,
    it would stop every write; it waits for the replication factor to be fixed first."""
    fewest = min(replicas, default=0)
    want, have = int(wanted[MIN_INSYNC]), int(current.get(MIN_INSYNC, ("1", 0))[0])
    if want <= fewest or want <= have:
        return None
    text = (
        f"{MIN_INSYNC}={have}, KAFKA_MIN_INSYNC_REPLICAS says {want}, more than the "
        f"{_plural(fewest, 'replica')} a partition has (writes would be refused)"
    )
    return Drift("replication", text)


def _config_drift(wanted: dict[str, str], current: dict[str, tuple[str, int]]) -> list[Drift]:
    """Effective values compared: a broker default equal to the wanted value is no drift."""
    drifts = []
    for key, want in wanted.items():
        have = current[key][0] if key in current else "unset"
        if have != want:
            source = _SOURCE.get(key, "spec says")
            drifts.append(Drift("config", f"{key}={have}, {source} {want}"))
    return drifts


def _partitions_with(replicas: int, count: int, total: int) -> str:
    which = _plural(count, "partition") if count == total else f"{count} of {total} partitions"
    return f"{which} with {_plural(replicas, 'replica')}"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
