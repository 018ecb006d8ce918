"""The newest version of each employee published on `users.enriched.v1`, followed live.

A version is the place of the HR event a record was enriched from (`view.versions`: its
time, then its offset on `hr.users.v1`). Whoever publishes enriched users asks this before
publishing and publishes only what is newer, so for every key the topic only moves forward:
a subscriber never receives a state older than one it already has, and the last record per
key (all that compaction keeps) is always the newest. A dead letter redriven after a newer
event, or a replay racing live traffic, is enriched and then not published.

Followed without a consumer group, like the erasure log: every partition, from the start.
Within one member, a key's records are handled one at a time and each publish is recorded
here as soon as the broker acknowledges it; across members, the consumer runner calls
`sync` when partitions are assigned, after the previous owner's publishes have landed, so
the new owner knows them before its first publish. A tombstone (erasure) forgets the key.

It also keeps the last few HR event ids published per employee (the records' `hreventid`):
a plain second record of an event already published (a re-delivery written twice) is not
enriched again, whichever replica meets it, after any restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime

from confluent_kafka import Message
from onboarding_events import USERS_ENRICHED_TOPIC
from prometheus_client import Counter

from onboarding_runtime.kafka.connection import KafkaConnection
from onboarding_runtime.kafka.follower import TopicFollower
from onboarding_runtime.view.versions import version_of

log = logging.getLogger(__name__)

STALE_SKIPPED = Counter(
    "onboarding_stale_publishes_skipped_total",
    "Enriched states not published because a newer one of the employee is already on the topic",
)


EVENTS_KEPT = 8  # HR event ids remembered per employee


def version_in(value: bytes) -> tuple[str, str | None] | None:
    """The version an enriched record carries (its CloudEvent `time` and `hroffset`), and
    the HR event it was enriched from (`hreventid`)."""
    envelope = json.loads(value)
    if not isinstance(envelope, dict) or not isinstance(envelope.get("time"), str):
        return None
    time = datetime.fromisoformat(envelope["time"])
    offset = envelope.get("hroffset", 0)
    event_id = envelope.get("hreventid")
    return (
        version_of(time, int(offset) if isinstance(offset, (int, str)) else 0),
        event_id if isinstance(event_id, str) else None,
    )


class PublishedVersions:
    def __init__(self, kafka: KafkaConnection, topic: str = USERS_ENRICHED_TOPIC) -> None:
        self._newest: dict[str, str] = {}
        self._events: dict[str, tuple[str, ...]] = {}
        self._follower = TopicFollower(kafka, topic, self._apply)
        self.caught_up = self._follower.caught_up

    async def start(self, *, timeout_s: float = 30.0) -> None:
        await self._follower.start(timeout_s=timeout_s)

    async def stop(self) -> None:
        await self._follower.stop()

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._follower.task

    async def sync(self) -> bool:
        """Wait until every record published before this call is known (False: unsure)."""
        return await self._follower.sync()

    def _apply(self, message: Message) -> None:
        key = (message.key() or b"").decode("utf-8", "replace")
        value = message.value()
        if value is None:
            self._newest.pop(key, None)
            self._events.pop(key, None)
            return
        found = version_in(value)
        if found is not None:
            self.record(key, found[0], found[1])

    def record(self, employee_id: str, version: str, event_id: str | None = None) -> None:
        """`version` of the employee is on the topic (read back, or acknowledged to us),
        enriched from HR event `event_id`."""
        known = self._newest.get(employee_id)
        if known is None or version > known:
            self._newest[employee_id] = version
        if event_id:
            seen = tuple(e for e in self._events.get(employee_id, ()) if e != event_id)
            self._events[employee_id] = (*seen, event_id)[-EVENTS_KEPT:]

    def has_event(self, employee_id: str, event_id: str) -> bool:
        """HR event `event_id` of the employee was enriched and published already."""
        return event_id in self._events.get(employee_id, ())

    def is_newer(self, employee_id: str, version: str) -> bool:
        """Publishing `version` would move the employee forward (or they have none yet)."""
        known = self._newest.get(employee_id)
        return known is None or version > known

    def is_current(self, employee_id: str, version: str) -> bool:
        """Nothing newer than `version` of the employee is out (a recheck of it may go on)."""
        known = self._newest.get(employee_id)
        return known is None or version >= known

    def __len__(self) -> int:
        return len(self._newest)
