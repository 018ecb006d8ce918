"""The topics and their configurations, created idempotently at start-up."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from onboarding_events import (
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    RETRY_TOPICS,
    USERS_ENRICHED_TOPIC,
)

from onboarding_runtime.kafka.connection import KafkaConnection

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = 6
    configs: dict[str, str] = field(default_factory=dict)


# Daily segments: retention deletes whole segments, so without a roll an erased person's
# HR record could outlive retention.ms by up to a segment's age (segment.ms, default 7 days).
_DELETE_AFTER_30_DAYS = {"retention.ms": str(30 * DAY_MS), "segment.ms": str(DAY_MS)}

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(HR_USERS_TOPIC, configs=dict(_DELETE_AFTER_30_DAYS)),
    # Compacted: the latest state of each employee stays forever; tombstones erase after
    # delete.retention.ms, and dirty segments are compacted within a day.
    TopicSpec(
        USERS_ENRICHED_TOPIC,
        configs={
            "cleanup.policy": "compact",
            "delete.retention.ms": str(DAY_MS),
            "max.compaction.lag.ms": str(DAY_MS),
            "min.cleanable.dirty.ratio": "0.1",
        },
    ),
    TopicSpec(HR_USERS_DLQ_TOPIC, configs=dict(_DELETE_AFTER_30_DAYS)),
    # HR records waiting to be looked up again (`onboarding_events.waiting`): each waits at
    # most a tier's delay (a day by default, at most a week) before it is written again or
    # done, so 30 days' retention never deletes one that still waits; HR data, so deleted.
    *(TopicSpec(topic, configs=dict(_DELETE_AFTER_30_DAYS)) for topic in RETRY_TOPICS),
)


async def ensure_topics(
    kafka: KafkaConnection,
    specs: tuple[TopicSpec, ...] = TOPICS,
    *,
    replication_factor: int = 1,
) -> list[str]:
    """Create the topics that are missing; return the names created."""
    admin = AIOKafkaAdminClient(**kafka.aiokafka())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service won the race
                await admin.create_topics(
                    [
                        NewTopic(
                            name=s.name,
                            num_partitions=s.partitions,
                            replication_factor=replication_factor,
                            topic_configs=s.configs,
                        )
                        for s in missing
                    ]
                )
        return [s.name for s in missing]
    finally:
        await admin.close()
