"""Every topic the platform uses, with its configuration, under the names this run uses.

The services' topics come from `onboarding_runtime.kafka.TOPICS`; the two that only
operations write are defined here: the erasure log and the redrive marks. Tests give each
run its own names (`TopicNames`) so they never touch the shared topics.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from onboarding_events import (
    ERASURES_TOPIC,
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    USERS_ENRICHED_TOPIC,
)
from onboarding_runtime.kafka import TOPICS, TopicSpec
from onboarding_runtime.kafka.topics import DAY_MS

# Which dead letters were redriven already: key `<partition>/<offset>` of the dead letter,
# so nothing personal. Kept as long as the dead letters themselves.
REDRIVES_TOPIC = "hr.users.v1.dlq.redrives"

ERASURES_SPEC = TopicSpec(
    ERASURES_TOPIC,
    partitions=1,  # tiny, and read whole at every start
    # Compacted and never deleted: the last erasure of each pseudonym is kept forever.
    configs={"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.1"},
)
REDRIVES_SPEC = TopicSpec(
    REDRIVES_TOPIC,
    partitions=1,
    configs={"retention.ms": str(30 * DAY_MS), "segment.ms": str(DAY_MS)},
)
ALL_SPECS: tuple[TopicSpec, ...] = (*TOPICS, ERASURES_SPEC, REDRIVES_SPEC)


@dataclass(frozen=True)
class TopicNames:
    hr: str = HR_USERS_TOPIC
    enriched: str = USERS_ENRICHED_TOPIC
    dlq: str = HR_USERS_DLQ_TOPIC
    erasures: str = ERASURES_TOPIC
    redrives: str = REDRIVES_TOPIC

    @classmethod
    def prefixed(cls, prefix: str) -> TopicNames:
        """The same topics under a prefix: one private set per test."""
        default = cls()
        return cls(**{f.name: prefix + getattr(default, f.name) for f in dataclasses.fields(cls)})

    def specs(self) -> tuple[TopicSpec, ...]:
        """`ALL_SPECS` renamed to this run's names."""
        default = TopicNames()
        rename = {getattr(default, f.name): getattr(self, f.name) for f in dataclasses.fields(self)}
        return tuple(dataclasses.replace(s, name=rename.get(s.name, s.name)) for s in ALL_SPECS)

    def spec(self, name: str) -> TopicSpec:
        return next(s for s in self.specs() if s.name == name)
