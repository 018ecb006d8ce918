"""Prometheus metrics shared by the runtime pieces; each service adds its own beside them.

Every gauge names its `multiprocess_mode`: under `serve_workers` with more than one worker
the values live in files of `PROMETHEUS_MULTIPROC_DIR` and `/metrics` merges them (counters
and histograms are summed; a gauge is merged as its mode says, `live*` modes only over
workers still running). docs/metrics.md lists every metric.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.multiprocess import mark_process_dead

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

RECORDS_PROCESSED = Counter(
    "onboarding_records_processed_total", "Records handled successfully", ["consumer", "topic"]
)
RECORDS_RETRIED = Counter(
    "onboarding_records_retried_total",
    "Handler attempts that failed and were retried",
    ["consumer", "topic", "code"],
)
RECORDS_DEAD_LETTERED = Counter(
    "onboarding_records_dead_lettered_total",
    "Records sent to a dead-letter topic",
    ["consumer", "topic", "code"],
)
HANDLER_SECONDS = Histogram(
    "onboarding_handler_seconds", "Time spent handling one record", ["consumer", "topic"]
)
RECORDS_SKIPPED = Counter(
    "onboarding_records_skipped_total",
    "Records a consumer without a dead-letter topic could not read and went past "
    "(the read model's decoders: consumer `view`; topic followers: `follower`)",
    ["consumer", "topic", "reason"],
)
CONSUMER_LAG = Gauge(
    "onboarding_consumer_lag",
    "Records of a partition not yet handled by its consumer group: the end the last fetch "
    "saw (high watermark) minus the first offset not handled (fetched but unfinished counts)",
    ["group", "topic", "partition"],
    multiprocess_mode="livemax",
)


def multiproc_dir() -> str | None:
    """Where this process keeps its metrics for `/metrics` to merge, in multiprocess mode."""
    return os.environ.get(MULTIPROC_DIR_VARIABLE) or None


_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w*_(\d+)\.db$")


def forget_gone_workers(directory: str) -> list[int]:
    """Mark every worker whose live gauges are in `directory` but which is gone (a crash,
    a replaced worker) dead there: its live gauges leave the merge, its counts stay in the
    totals. Called before each scrape: a directory listing, and a signal 0 per worker."""
    gone = []
    for name in os.listdir(directory):
        found = _LIVE_GAUGE_FILE.match(name)
        if found is not None and not _alive(pid := int(found.group(1))):
            mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
            gone.append(pid)
    return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: not ours to forget
    return True


class Unfinished(Protocol):
    """What the consumer runner knows of a partition's records in hand (`OffsetTracker`)."""

    @property
    def position(self) -> int | None: ...
    @property
    def unfinished(self) -> int: ...


class ConsumerLag:
    """`onboarding_consumer_lag` of one consumer group, updated once per poll (`update`).

    Cheap: per assigned partition, the high watermark aiokafka remembers from its last fetch
    and the consumer's position (both in memory, no request). A partition not fetched yet
    has no value; one no longer assigned loses its series.
    """

    def __init__(self, group: str) -> None:
        self._group = group
        self._children: dict[TopicPartition, Gauge] = {}

    async def update(
        self,
        consumer: AIOKafkaConsumer,
        unfinished: Mapping[TopicPartition, Unfinished] | None = None,
    ) -> None:
        """`unfinished`: the records fetched and not yet done, by partition (the runner's
        offset trackers): they count as lag too."""
        assigned = consumer.assignment()
        # All ends first, with no await in between: the assignment cannot change meanwhile.
        ends = {tp: end for tp in assigned if (end := consumer.highwater(tp)) is not None}
        for tp, end in ends.items():
            try:
                position: int = await consumer.position(tp)
            except KafkaError:  # revoked meanwhile, or the coordinator is away: next poll
                continue
            tracker = unfinished.get(tp) if unfinished else None
            if tracker is not None and tracker.unfinished and tracker.position is not None:
                position = min(position, tracker.position)
            self._child(tp).set(max(0, end - position))
        for tp in self._children.keys() - assigned:
            self._forget(tp)

    def _child(self, tp: TopicPartition) -> Gauge:
        child = self._children.get(tp)
        if child is None:
            child = CONSUMER_LAG.labels(self._group, tp.topic, str(tp.partition))
            self._children[tp] = child
        return child

    def _forget(self, tp: TopicPartition) -> None:
        child = self._children.pop(tp)
        if multiproc_dir() is None:
            CONSUMER_LAG.remove(self._group, tp.topic, str(tp.partition))
        else:  # series cannot be removed from the shared files: another member reports it
            child.set(0)
