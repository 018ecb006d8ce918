"""A subscriber of `users.enriched.v1`: the newest state of every employee, kept in memory.

    pip install onboarding-events aiokafka
    python subscriber.py localhost:9092 my-directory     # bootstrap servers, consumer group

What every subscriber of the topic does:

- reads each value with the library's tolerant reader (`UserEnriched.from_json`): fields
  added later within `v1` are ignored, so a newer writer does not break this reader;
- keeps the last record of each key: the topic only moves forward per employee, so the last
  is the newest (and it is all that compaction keeps);
- drops the employee on a tombstone (a key with no value): the person was erased;
- commits after applying (at least once: after a restart a record may come again, and
  applying it again changes nothing).

A record that cannot be read is counted and skipped, not applied; within `v1` there is none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer
from onboarding_events import USERS_ENRICHED_TOPIC, EnrichedUser, UserEnriched
from pydantic import ValidationError

log = logging.getLogger("subscriber")


class Directory:
    """The newest enriched state of each employee, by employee id (the record key)."""

    def __init__(self) -> None:
        self.users: dict[str, EnrichedUser] = {}
        self.applied = 0  # records read, of every kind
        self.unreadable = 0

    def apply(self, key: bytes | None, value: bytes | None) -> str | None:
        """One record of the topic; the employee id it changed, if any."""
        self.applied += 1
        if key is None:
            self.unreadable += 1
            return None
        employee_id = key.decode("utf-8", "replace")
        if value is None:  # a tombstone: erased
            self.users.pop(employee_id, None)
            return employee_id
        try:
            event = UserEnriched.from_json(value)
        except ValidationError:
            self.unreadable += 1
            log.warning("unreadable record for %s skipped", employee_id)
            return None
        self.users[employee_id] = event.data
        return employee_id


async def follow(
    bootstrap_servers: str,
    group_id: str,
    directory: Directory,
    *,
    topic: str = USERS_ENRICHED_TOPIC,
    on_change: Callable[[str, EnrichedUser | None], None] | None = None,
) -> None:
    """Apply the topic to `directory` from the group's committed offsets (or the start),
    until cancelled; `on_change` hears of each employee changed (None: erased)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        async for record in consumer:
            changed = directory.apply(record.key, record.value)
            await consumer.commit()
            if changed is not None and on_change is not None:
                on_change(changed, directory.users.get(changed))
    finally:
        await consumer.stop()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python subscriber.py BOOTSTRAP_SERVERS GROUP_ID", file=sys.stderr)
        return 2

    def show(employee_id: str, user: EnrichedUser | None) -> None:
        print(f"{employee_id}: {user.model_dump_json() if user else 'erased'}", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(follow(argv[0], argv[1], Directory(), on_change=show))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
