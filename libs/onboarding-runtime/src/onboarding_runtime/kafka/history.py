"""The records just before a point of a topic's partitions: what a new owner did not see.

A consumer group member that takes over partitions starts at their committed offsets and
knows nothing of what came before. Some rules need a little of that past: enrich skips a
plain second record of an HR event already handled, and the first record may lie just
before the committed offset (handled, or superseded, by the previous owner). `read_before`
reads that stretch once per assignment, bounded by count and by record time.

On librdkafka, like the follower, in a worker thread: no group (partitions are assigned),
nothing committed, the consumer closed before it returns.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Mapping

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from onboarding_runtime.kafka.connection import KafkaConnection

log = logging.getLogger(__name__)

_METADATA_TIMEOUT_S = 5.0
_POLL_S = 0.2


async def read_before(
    kafka: KafkaConnection,
    topic: str,
    ends: Mapping[int, int],
    *,
    max_records: int,
    since_ms: int | None = None,
    timeout_s: float = 30.0,
) -> list[Message] | None:
    """Up to `max_records` records of each partition in `ends` just before its offset
    there (none written before `since_ms`, record time), in each partition's order.

    None when they could not all be read within `timeout_s` (the broker away): the caller
    tries again rather than go on without them.
    """
    wanted = {p: end for p, end in ends.items() if end > 0}
    if not wanted or max_records <= 0:
        return []
    try:
        return await asyncio.to_thread(
            _read, kafka, topic, wanted, max_records, since_ms, timeout_s
        )
    except KafkaException as exc:
        log.warning("cannot read %s before the committed offsets: %s", topic, type(exc).__name__)
        return None


def _read(
    kafka: KafkaConnection,
    topic: str,
    ends: dict[int, int],
    max_records: int,
    since_ms: int | None,
    timeout_s: float,
) -> list[Message] | None:
    deadline = time.monotonic() + timeout_s
    consumer = Consumer(
        kafka.librdkafka(
            {
                "group.id": f"history-{uuid.uuid4()}",  # required, never joined
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
            }
        )
    )
    try:
        starts = _starts(consumer, topic, ends, max_records, since_ms)
        todo = {p: end for p, end in ends.items() if starts[p] < end}
        if not todo:
            return []
        consumer.assign([TopicPartition(topic, p, starts[p]) for p in todo])
        found: list[Message] = []
        while todo:
            if time.monotonic() > deadline:
                return None
            for message in consumer.consume(1000, _POLL_S):
                partition = message.partition() or 0
                offset = message.offset() or 0
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF and offset >= todo.get(
                        partition, offset + 1
                    ):
                        todo.pop(partition, None)
                    continue
                end = todo.get(partition)
                if end is None:
                    continue
                if offset < end:
                    found.append(message)
                if offset + 1 >= end:
                    del todo[partition]
        return found
    finally:
        consumer.close()


def _starts(
    consumer: Consumer,
    topic: str,
    ends: dict[int, int],
    max_records: int,
    since_ms: int | None,
) -> dict[int, int]:
    """Where each partition's stretch begins: `max_records` back, no earlier than the
    log's start and (with `since_ms`) than the first record that recent."""
    starts: dict[int, int] = {}
    for partition, end in ends.items():
        low, _ = consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=_METADATA_TIMEOUT_S
        )
        starts[partition] = max(low, end - max_records)
    if since_ms is not None:
        found = consumer.offsets_for_times(
            [TopicPartition(topic, p, since_ms) for p in ends], timeout=_METADATA_TIMEOUT_S
        )
        for tp in found:
            # nothing that recent (negative offset): nothing of the stretch to read
            recent = ends[tp.partition] if tp.offset < 0 else tp.offset
            starts[tp.partition] = max(starts[tp.partition], recent)
    return starts
