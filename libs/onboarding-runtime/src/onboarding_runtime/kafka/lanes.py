"""Bookkeeping of the pipelined consumer: one lane per key, one offset tracker per partition.

A lane holds one key's records in offset order: the one being worked on (`current`, maybe
waiting for a retry) and those queued behind it. A tracker knows which offsets of a
partition were handed out and which are finished, so the runner never commits past a
record that is not finished, however long it waits.

The supersede rule runs on the poll loop, for whatever arrives: a rule that raises (on a
record nested thousands deep, say) counts as "does not supersede", so the records stay and
meet the handler, which dead-letters what it cannot read. The loop never stops for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client import Counter

RECORDS_SUPERSEDED = Counter(
    "onboarding_records_superseded_total",
    "Records made obsolete by a newer record of the same key before they were done",
    ["consumer", "topic"],
)


class Record(Protocol):
    """What a handler reads of a Kafka record (aiokafka's ConsumerRecord has these)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(frozen=True)
class RecordCopy:
    """A `Record` made, not fetched: one seen at another place (a retry tier's record at its
    HR record's, for its dead letter), or one a test hands a handler."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


# `supersedes(newer, older)`: True when handling `newer` makes handling `older` pointless
# (e.g. both carry an employee's full state and `newer` is at least as recent).
Supersedes = Callable[[Record, Record], bool]

log = logging.getLogger(__name__)


def _supersedes(rule: Supersedes, newer: Record, older: Record) -> bool:
    """`rule(newer, older)`; False when it raises, whatever it raises."""
    try:
        return rule(newer, older)
    except Exception as exc:  # RecursionError too
        log.warning(
            "supersede check failed (%s): both records are kept",
            type(exc).__name__,
            extra={"topic": newer.topic, "partition": newer.partition, "offset": newer.offset},
        )
        return False


class OffsetTracker:
    """Offsets of one partition in fetch order; the commit position is the first unfinished."""

    def __init__(self) -> None:
        self._open: deque[int] = deque()
        self._finished: set[int] = set()
        self._position: int | None = None

    def track(self, offset: int) -> None:
        self._open.append(offset)
        if self._position is None:
            self._position = offset

    def finish(self, offset: int) -> None:
        self._finished.add(offset)
        while self._open and self._open[0] in self._finished:
            done = self._open.popleft()
            self._finished.discard(done)
            self._position = done + 1
        if self._open:
            self._position = self._open[0]

    @property
    def position(self) -> int | None:
        """The offset to commit: everything before it is finished."""
        return self._position

    @property
    def unfinished(self) -> int:
        return len(self._open) - len(self._finished)


@dataclass(eq=False)
class Lane:
    """One key's records: `current` is being worked on, `queue` waits behind it in order."""

    queue: deque[Record] = field(default_factory=deque)
    current: Record | None = None
    superseded: bool = False  # `current` was made obsolete by a newer record
    closing: bool = False  # the partition is revoked or the runner stops
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # ends a retry wait early
    task: asyncio.Task[None] | None = None

    def add(self, record: Record, supersedes: Supersedes | None) -> list[Record]:
        """Queue `record`; return the queued records it makes obsolete (now finished)."""
        dropped: list[Record] = []
        if supersedes is not None:
            kept: deque[Record] = deque()
            for queued in self.queue:
                (dropped if _supersedes(supersedes, record, queued) else kept).append(queued)
            self.queue = kept
            if self.current is not None and _supersedes(supersedes, record, self.current):
                # Only matters if `current` fails: it then stops waiting and gives way.
                self.superseded = True
                self.wake.set()
        self.queue.append(record)
        return dropped

    def take(self) -> Record:
        self.current = self.queue.popleft()
        self.superseded = False
        self.wake.clear()
        return self.current

    def close(self) -> None:
        self.closing = True
        self.wake.set()

    @property
    def size(self) -> int:
        return len(self.queue) + (self.current is not None)
