"""The versions a projector has written, kept in memory so writes need no read per batch.

Why: on FerretDB v1 (SQLite) every filter other than a lone `_id` is evaluated after a full
scan, and even a lone `_id` is a table scan, so reading the stored versions of a batch costs
seconds once the collection holds 100k documents. One writer per employee (partition
ownership) lets the projector trust what it wrote itself, as long as nobody else wrote in
between. That is checked per partition: a batch that does not start where this process left
off (a first batch, or a gap after a rebalance) reloads every version from the database.
"""

from __future__ import annotations

from pymongo.asynchronous.collection import AsyncCollection

from onboarding_runtime.mongo import Document

PartitionKey = tuple[str, int]  # (topic, partition)


# How many of an employee's latest event ids a document remembers (`event_ids`).
EVENT_MEMORY = 8


class VersionIndex:
    def __init__(self) -> None:
        self._versions: dict[str, str] | None = None
        self._events: dict[str, tuple[str, ...]] = {}  # employee -> latest event ids seen
        self._next_offset: dict[PartitionKey, int] = {}

    def needs_reload(self, partition: PartitionKey, first_offset: int) -> bool:
        expected = self._next_offset.get(partition)
        # `first_offset < expected` is our own batch delivered again: what we wrote stands.
        return self._versions is None or expected is None or first_offset > expected

    async def reload(
        self, collection: AsyncCollection[Document], partition: PartitionKey, first_offset: int
    ) -> None:
        """Read every stored version; `partition` is in step from `first_offset` on."""
        versions: dict[str, str] = {}
        events: dict[str, tuple[str, ...]] = {}
        async for doc in collection.find({}, {"version": 1, "event_ids": 1}):
            versions[str(doc["_id"])] = str(doc.get("version", ""))
            if doc.get("event_ids"):
                events[str(doc["_id"])] = tuple(str(e) for e in doc["event_ids"])
        self._versions, self._events = versions, events
        self._next_offset[partition] = first_offset

    def events(self, employee_id: str) -> tuple[str, ...]:
        """The employee's latest event ids seen (oldest first), at most `EVENT_MEMORY`."""
        return self._events.get(employee_id, ())

    def saw(self, employee_id: str, event_id: str) -> tuple[str, ...]:
        """Remember `event_id` for the employee; the ids to store with their document."""
        known = tuple(e for e in self.events(employee_id) if e != event_id)
        self._events[employee_id] = remembered = (*known, event_id)[-EVENT_MEMORY:]
        return remembered

    def get(self, employee_id: str) -> str | None:
        return None if self._versions is None else self._versions.get(employee_id)

    def __contains__(self, employee_id: str) -> bool:
        return self._versions is not None and employee_id in self._versions

    def written(
        self, partition: PartitionKey, next_offset: int, changes: dict[str, str | None]
    ) -> None:
        """Record a successful write: id -> new version, or None for a deleted document."""
        assert self._versions is not None
        for employee_id, version in changes.items():
            if version is None:
                self._versions.pop(employee_id, None)
            else:
                self._versions[employee_id] = version
        self._next_offset[partition] = next_offset

    def forget(self) -> None:
        """After a failed or unknown write: trust nothing until the next reload."""
        self._versions = None
        self._events = {}
        self._next_offset = {}
