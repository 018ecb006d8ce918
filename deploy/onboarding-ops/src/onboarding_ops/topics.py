"""Every topic the platform uses, with its configuration, under the names this run uses.

The services' topics come from `onboarding_runtime.kafka.TOPICS` (the retry tiers
`hr.users.v1.retry.1` to `.5` among them); the two that only operations write are
configured here: the erasure log and the redrive marks (their names and records are in
`onboarding_events`). Tests give each run its own names (`TopicNames`) so they never touch
the shared topics.

How many copies each partition has (`Durability`) depends on the cluster, not on the topic,
so it comes from the settings and applies to every topic alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from onboarding_events import (
    ERASURES_TOPIC,
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    REDRIVES_TOPIC,
    RETRY_TOPICS,
    USERS_ENRICHED_TOPIC,
)
from onboarding_runtime.kafka import TOPICS, TopicSpec
from onboarding_runtime.kafka.topics import DAY_MS

ERASURES_SPEC = TopicSpec(
    ERASURES_TOPIC,
    partitions=1,  # tiny, and read whole at every start
    # Compacted and never deleted: the last erasure of each pseudonym is kept forever.
    configs={"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.1"},
)
# Which dead letters were redriven already (`onboarding_events.redrive`): kept as long as
# the dead letters themselves.
REDRIVES_SPEC = TopicSpec(
    REDRIVES_TOPIC,
    partitions=1,
    configs={"retention.ms": str(30 * DAY_MS), "segment.ms": str(DAY_MS)},
)
ALL_SPECS: tuple[TopicSpec, ...] = (*TOPICS, ERASURES_SPEC, REDRIVES_SPEC)


@dataclass(frozen=True)
class Durability:
    """Replicas per partition, and how many of them must hold a write before a producer with
    `acks=all` (every producer of the platform) hears that it is stored."""

    replication_factor: int = 1
    min_insync_replicas: int = 1

    def configs(self) -> dict[str, str]:
        """The topic configs that carry it, on every topic."""
        return {
            "min.insync.replicas": str(self.min_insync_replicas),
            # An unclean leader is a replica that missed acknowledged writes: electing one
            # loses them silently. Better a partition unavailable until a full replica returns.
            "unclean.leader.election.enable": "false",
        }


def wanted_configs(spec: TopicSpec, durability: Durability) -> dict[str, str]:
    """What a topic's configuration must hold: its spec's configs plus the durability ones."""
    return {**spec.configs, **durability.configs()}


@dataclass(frozen=True)
class TopicNames:
    hr: str = HR_USERS_TOPIC
    enriched: str = USERS_ENRICHED_TOPIC
    dlq: str = HR_USERS_DLQ_TOPIC
    erasures: str = ERASURES_TOPIC
    redrives: str = REDRIVES_TOPIC
    # The retry tiers, tier n at index n - 1 (`onboarding_events.waiting`).
    retries: tuple[str, ...] = RETRY_TOPICS

    @classmethod
    def prefixed(cls, prefix: str) -> TopicNames:
        """The same topics under a prefix: one private set per test."""
        default = cls()
        return cls(
            hr=prefix + default.hr,
            enriched=prefix + default.enriched,
            dlq=prefix + default.dlq,
            erasures=prefix + default.erasures,
            redrives=prefix + default.redrives,
            retries=tuple(prefix + name for name in default.retries),
        )

    def names(self) -> tuple[str, ...]:
        """Every topic name of this run, each once."""
        return (self.hr, self.enriched, self.dlq, *self.retries, self.erasures, self.redrives)

    def specs(self) -> tuple[TopicSpec, ...]:
        """`ALL_SPECS` renamed to this run's names. A spec without a field here raises
        `KeyError` rather than keep its shared name: a test must never write to that."""
        rename = dict(zip(TopicNames().names(), self.names(), strict=True))
        return tuple(dataclasses.replace(s, name=rename[s.name]) for s in ALL_SPECS)

    def spec(self, name: str) -> TopicSpec:
        return next(s for s in self.specs() if s.name == name)
