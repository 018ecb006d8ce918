"""Read a topic from a point in time (or its beginning) up to its end at the start.

No consumer group: the partitions are assigned and sought directly, so nothing is
committed and no running service's group is disturbed. The end offsets are taken once at
the start, so a scan ends even while the services keep writing (and never reads the
records it republishes itself).

`group_progress` looks at a running service's group from outside (its committed offsets and
which partitions its members hold) without joining it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.errors import KafkaError, for_code
from onboarding_runtime.kafka import KafkaConnection

from onboarding_ops.errors import OpsError
from onboarding_ops.kafka_admin import unreachable

# A scan that makes no progress for this long has lost the broker.
STALL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Scan:
    """What a scan will read: per partition, [start, end)."""

    topic: str
    starts: dict[TopicPartition, int]
    ends: dict[TopicPartition, int]

    @property
    def total(self) -> int:
        """Records to read, at most (compaction can leave gaps)."""
        return sum(self.ends[tp] - self.starts[tp] for tp in self.ends)


@dataclass(frozen=True)
class GroupProgress:
    """Where a consumer group stands on some partitions of a topic, at one moment."""

    committed: dict[TopicPartition, int]  # only the partitions it has committed on
    # Which of them its live members hold: empty with no live member; None during a
    # rebalance, when the broker does not show assignments (then any may be held).
    held: frozenset[TopicPartition] | None

    def behind(self, ends: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        """The partitions a live member holds whose committed offset (0 before the first
        commit) is below `ends`: there a batch below the end may still be in flight.
        Partitions nobody holds are never behind: no one works on them."""
        return {
            tp: self.committed.get(tp, 0)
            for tp, end in ends.items()
            if (self.held is None or tp in self.held) and self.committed.get(tp, 0) < end
        }


class TopicReader:
    """One consumer without a group; `open()` it, then `plan()` and `read()` scans."""

    def __init__(self, kafka: KafkaConnection, *, timeout_s: float) -> None:
        self._kafka = kafka
        self._timeout_s = timeout_s
        self._consumer = AIOKafkaConsumer(
            **kafka.aiokafka(),
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            request_timeout_ms=int(timeout_s * 1000),
            max_poll_records=1000,
        )
        # Partition metadata comes from the admin client: the consumer only knows topics it
        # was assigned, and `consumer.topics()` does not fill its cache.
        self._admin = AIOKafkaAdminClient(
            **kafka.aiokafka(), request_timeout_ms=int(timeout_s * 1000)
        )

    async def start(self) -> None:
        try:
            await asyncio.wait_for(self._consumer.start(), timeout=self._timeout_s)
            await asyncio.wait_for(self._admin.start(), timeout=self._timeout_s)
        except (KafkaError, OSError, TimeoutError) as exc:
            await self.stop()
            raise await unreachable(self._kafka, self._timeout_s) from exc

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._admin.close()

    async def plan(self, topic: str, since: datetime | None = None) -> Scan:
        """From the first record at or after `since` (None: the beginning) to the end now."""
        consumer = self._consumer
        [described] = await self._admin.describe_topics([topic])
        if described["error_code"] or not described["partitions"]:
            raise OpsError(f"topic {topic} does not exist; run `onboarding-ops topics` first")
        partitions = sorted(p["partition"] for p in described["partitions"])
        tps = [TopicPartition(topic, p) for p in partitions]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        if since is None:
            starts: dict[TopicPartition, int] = await consumer.beginning_offsets(tps)
        else:
            millis = int(since.timestamp() * 1000)
            found = await consumer.offsets_for_times(dict.fromkeys(tps, millis))
            # No record at or after `since` on a partition: nothing to read there.
            starts = {tp: ends[tp] if hit is None else hit.offset for tp, hit in found.items()}
        return Scan(topic, starts, ends)

    async def plan_after(self, previous: Scan) -> Scan:
        """What was written since `previous` ended, up to the end now."""
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(list(previous.ends))
        return Scan(previous.topic, dict(previous.ends), ends)

    async def group_progress(
        self, group_id: str, partitions: Collection[TopicPartition]
    ) -> GroupProgress:
        """`group_id`'s committed offsets on `partitions`, and which of them its live members
        hold now. Read only: the group is not joined and nothing of it changes. Raises
        `KafkaError` when the broker cannot tell yet (its coordinator loading or moving)."""
        found = await self._admin.list_consumer_group_offsets(group_id, partitions=list(partitions))
        committed = {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}
        [response] = await self._admin.describe_consumer_groups([group_id])
        [group] = response.to_object()["groups"]
        if group["error_code"]:  # e.g. its coordinator still loading: the caller may retry
            raise for_code(group["error_code"])(f"describing consumer group {group_id}")
        return GroupProgress(committed, _held(group, frozenset(partitions)))

    async def read(self, scan: Scan) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
        """Every record of the scan, each partition in offset order."""
        consumer = self._consumer
        pending = {tp for tp in scan.ends if scan.starts[tp] < scan.ends[tp]}
        consumer.assign(list(pending))
        for tp in pending:
            consumer.seek(tp, scan.starts[tp])
        last_progress = time.monotonic()
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=500)
            if batches:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > STALL_TIMEOUT_S:
                raise OpsError(f"reading {scan.topic} stalled: is the broker still up?")
            for tp, records in batches.items():
                for record in records:
                    if record.offset < scan.ends[tp]:
                        yield record
            for tp in list(pending):
                if await consumer.position(tp) >= scan.ends[tp]:
                    pending.discard(tp)
        consumer.assign([])


def _held(
    group: dict[str, Any], partitions: frozenset[TopicPartition]
) -> frozenset[TopicPartition] | None:
    """Which of `partitions` the members of a described group hold (None: not known)."""
    members = group["members"]
    if not members:
        return frozenset()  # Empty or Dead: no member works on anything
    if group["state"] != "Stable":
        return None  # a rebalance: members are listed without their assignments
    held: set[TopicPartition] = set()
    for member in members:
        try:
            assignment = ConsumerProtocolMemberAssignment.decode(member["member_assignment"])
        except Exception:  # not a consumer group's assignment: assume the worst
            return None
        held.update(assignment.partitions())
    return frozenset(held) & partitions
