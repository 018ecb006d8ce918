"""The topics into the view: one bulk write per partition slice of a poll.

`users.enriched.v1` into the users view; `hr.users.v1`, its dead letters and its five retry
tiers into the status view (a record is shown waiting as soon as it is on a tier, not when
it comes due).

The runner retries a slice until its write succeeds (forever: while the database is down
the projector pauses here) and commits the poll's offsets only after every slice is written.
Before each write the erasure log is read to its end (`sync_erasures`), so the views' writers
drop what an `onboarding-ops erase` issued meanwhile covers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from onboarding_events import (
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    RETRY_TOPICS,
    USERS_ENRICHED_TOPIC,
)
from onboarding_runtime.kafka import BrokerUnavailable, ConsumerRunner, KafkaConnection
from onboarding_runtime.kafka.consumer import Record, RetryPolicy
from onboarding_runtime.view import StatusView, UsersView

TOPICS = (USERS_ENRICHED_TOPIC, HR_USERS_TOPIC, HR_USERS_DLQ_TOPIC, *RETRY_TOPICS)

Project = Callable[[Sequence[Record]], Awaitable[int]]
SyncErasures = Callable[[], Awaitable[bool]]


def projections(users: UsersView, status: StatusView) -> dict[str, Project]:
    return {
        USERS_ENRICHED_TOPIC: users.project,
        HR_USERS_TOPIC: status.project_accepted,
        HR_USERS_DLQ_TOPIC: status.project_failed,
        **dict.fromkeys(RETRY_TOPICS, status.project_waiting),
    }


def build_projector(
    *,
    kafka: KafkaConnection,
    group_id: str,
    users: UsersView,
    status: StatusView,
    max_batch: int,
    sync_erasures: SyncErasures,
) -> ConsumerRunner:
    by_topic = projections(users, status)

    async def project(records: Sequence[Record]) -> None:
        if not await sync_erasures():
            raise BrokerUnavailable()  # retried: the batch waits for the erasure log
        await by_topic[records[0].topic](records)

    return ConsumerRunner(
        name="query-projector",
        kafka=kafka,
        group_id=group_id,
        topics=TOPICS,
        batch_handler=project,
        # No dead letters for a projection: a write that fails is the database's fault, so
        # wait for it (capped backoff so the catch-up starts soon after it is back).
        retry=RetryPolicy(max_attempts=None, base_delay_s=0.2, max_delay_s=5.0),
        max_batch=max_batch,
    )
