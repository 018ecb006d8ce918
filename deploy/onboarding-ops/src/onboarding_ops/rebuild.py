"""`rebuild-view`: the users view again from `users.enriched.v1` alone, without a gap.

1. Fold the whole topic (up to its end now) in memory, with the live projector's decoder
   and version rule, leaving out erased employees' events, and insert the result into a
   new collection (each document written once). Catch up with what arrived meanwhile until
   a round finds little new.
2. Flip the pointer: readers and the projector follow it within VIEW_POINTER_TTL_S. Until
   then they read and write the old collection, which stays complete.
3. Wait out that time, then for the query projector: read the topic's end offsets and poll
   (every `PROJECTOR_POLL_S`) until its consumer group (QUERY_GROUP_ID) has committed at or
   past them on every partition one of its live members holds. A batch that resolved the
   pointer before the flip, and so writes to the old collection, is then finished: the
   projector commits a batch only after writing it.
4. Catch up once more, up to the end now (at or past the ends of step 3, so it holds
   everything such a batch wrote to the old collection), with atomic newer-only writes since
   the projector now writes there too; then drop the old collection.

Step 3 waits only for partitions a live member holds. With no live member (query-service
down, or it never ran: no committed offsets either) nothing can be in flight, whatever was
committed: a member that left cannot commit any more (its batch, if any, is redone by the
next owner, which reads the pointer afresh), and one that joins later starts after the flip.
During a rebalance the broker does not say who holds what, so every partition counts as held.
The wait is bounded by REBUILD_PROJECTOR_WAIT_S: past it the command fails as below.

A failure before the flip drops the new collection: the live view never changed. A failure
after it (the last catch-up, or the projector not passing the end in time) keeps the old
collection (nothing lost); running the command again is safe.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from onboarding_runtime.mongo import Document
from onboarding_runtime.view import Delete, Put, VersionedWriter, time_of
from onboarding_runtime.view.records import enriched_change
from onboarding_runtime.view.writer import Change, bulk_write_bounded
from pymongo import DeleteOne, InsertOne, ReplaceOne

from onboarding_ops.bootstrap import Kafka, Ops
from onboarding_ops.erasure_log import ErasureLog
from onboarding_ops.errors import OpsError
from onboarding_ops.progress import Tracker
from onboarding_ops.scan import GroupProgress, Scan
from onboarding_ops.view import MongoView

BULK = 1000  # documents per bulk write
CATCH_UP_ROUNDS = 5
SETTLED = 100  # a catch-up round this small means the next one, after the flip, is quick
POINTER_MARGIN_S = 0.5  # beyond VIEW_POINTER_TTL_S, before the projector's group is polled
PROJECTOR_POLL_S = 0.5  # how often the query projector's committed offsets are read


@dataclass
class RebuildSummary:
    collection: str
    previous: str
    records: int = 0
    erased_skipped: int = 0
    users: int = 0


class _Projection:
    """Records of the enriched topic into changes, minus erased employees' events."""

    def __init__(self, erasures: ErasureLog, summary: RebuildSummary) -> None:
        self._erasures = erasures
        self._summary = summary

    def change(self, record: ConsumerRecord[bytes, bytes]) -> Change | None:
        self._summary.records += 1
        change = enriched_change(record)
        if isinstance(change, Put) and self._erasures.covers(
            change.employee_id, time_of(change.version)
        ):
            self._summary.erased_skipped += 1
            return None
        return change


class _NewCollection:
    """The collection being built, and (in memory) exactly what it holds: until the flip,
    nobody else writes to it, so each round is folded against that and written once."""

    def __init__(self, view: MongoView, name: str) -> None:
        self._coll = view.db[name]
        self.held: dict[str, str] = {}  # employee id -> version

    async def apply(self, changes: AsyncIterator[Change]) -> None:
        winners: dict[str, Change] = {}
        async for change in changes:
            key = change.employee_id
            if isinstance(change, Delete):
                winners[key] = change
                continue
            before = winners.get(key)
            known = before.version if isinstance(before, Put) else None
            if before is None:
                known = self.held.get(key)
            # After a tombstone anything goes, as on the live projector.
            if known is None or change.version > known:
                winners[key] = change
        ops: list[InsertOne[Document] | ReplaceOne[Document] | DeleteOne] = []
        for key, change in winners.items():
            if isinstance(change, Delete):
                if self.held.pop(key, None) is not None:
                    ops.append(DeleteOne({"_id": key}))
            elif key in self.held:
                ops.append(ReplaceOne({"_id": key}, change.document()))
                self.held[key] = change.version
            else:
                ops.append(InsertOne(change.document()))
                self.held[key] = change.version
        # Replaces go in small commands: 100+ matched updates in one hang FerretDB v1.
        for chunk in range(0, len(ops), BULK):
            await bulk_write_bounded(self._coll, ops[chunk : chunk + BULK])


async def rebuild(
    ops: Ops, kafka: Kafka, view: MongoView, erasures: ErasureLog, tracker: Tracker
) -> RebuildSummary:
    previous = await view.pointer.name()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    new = f"users_{stamp}_{uuid.uuid4().hex[:6]}"
    summary = RebuildSummary(collection=new, previous=previous)
    projection = _Projection(erasures, summary)
    building = _NewCollection(view, new)
    try:
        await view.db.create_collection(new)
        scan = await kafka.reader.plan(ops.topics.enriched)
        tracker.begin(f"rebuilding from {ops.topics.enriched}", scan.total)
        await building.apply(_changes(kafka, scan, projection, tracker))
        for _ in range(CATCH_UP_ROUNDS):
            # `scan` stays the last one written: what a small round found is left to the
            # catch-up after the switch, which starts where `scan` ends.
            more = await kafka.reader.plan_after(scan)
            if more.total <= SETTLED:
                break
            tracker.begin("catching up", more.total)
            await building.apply(_changes(kafka, more, projection, tracker))
            scan = more
        await view.pointer.flip(new)
    except BaseException:
        await view.db.drop_collection(new)
        raise
    try:
        await _after_flip(
            ops, kafka, view, VersionedWriter(view.db, new), scan, projection, tracker
        )
    except Exception as exc:
        # An OpsError's message is written for the operator; anything else is only named.
        reason = str(exc) if isinstance(exc, OpsError) else type(exc).__name__
        raise OpsError(
            f"switched to {new}, but the last catch-up failed ({reason}); "
            f"{previous} was kept; run rebuild-view again"
        ) from exc
    summary.users = await view.db[new].count_documents({})
    if previous != new:
        await view.db.drop_collection(previous)
    return summary


async def _after_flip(
    ops: Ops,
    kafka: Kafka,
    view: MongoView,
    writer: VersionedWriter,
    scan: Scan,
    projection: _Projection,
    tracker: Tracker,
) -> None:
    # The services keep the old pointer for up to their TTL; wait it out.
    await ops.sleep(view.pointer_ttl_s + POINTER_MARGIN_S)
    # A projector batch that resolved the pointer before that may still be writing to the old
    # collection: wait until the projector has committed up to the end now, so it is done...
    ends = (await kafka.reader.plan_after(scan)).ends
    await until_projector_passed(ops, kafka.reader, scan.topic, ends, tracker)
    # ... then catch up to the end after that, which is at or past `ends`.
    scan = await kafka.reader.plan_after(scan)
    tracker.begin("catching up after the switch", scan.total)
    latest: dict[str, list[Change]] = {}
    async for change in _changes(kafka, scan, projection, tracker):
        steps = latest.setdefault(change.employee_id, [])
        if isinstance(change, Delete):
            steps[:] = [change]  # what came before the tombstone no longer matters
        elif not any(isinstance(s, Put) and s.version >= change.version for s in steps):
            steps[:] = [s for s in steps if isinstance(s, Delete)] + [change]
    for steps in latest.values():
        for step in steps:
            if isinstance(step, Delete):
                await writer.erase(step.employee_id)
            else:
                await writer.put_if_newer(step)  # the live projector writes here too now


class GroupOffsets(Protocol):
    async def group_progress(
        self, group_id: str, partitions: Collection[TopicPartition]
    ) -> GroupProgress: ...


class ProjectorBehind(OpsError):
    """The query projector did not commit past the topic's end within the allowed time."""


async def until_projector_passed(
    ops: Ops,
    offsets: GroupOffsets,
    topic: str,
    ends: dict[TopicPartition, int],
    tracker: Tracker,
) -> None:
    """Until the query projector's group has committed at or past `ends` on every partition
    a live member of it holds (see the module docstring), polling with `ops.sleep`; raises
    `ProjectorBehind` once REBUILD_PROJECTOR_WAIT_S have passed on `ops.clock`."""
    group, limit_s = ops.settings.query_group_id, ops.settings.rebuild_projector_wait_s
    deadline = ops.clock() + limit_s
    tracker.begin(f"waiting for {group} to pass the end of {topic}", len(ends))
    passed: set[TopicPartition] = set()
    while True:
        try:
            behind = (await offsets.group_progress(group, list(ends))).behind(ends)
        except KafkaError as exc:  # e.g. the group's coordinator moving: ask again
            where = f"its offsets could not be read ({type(exc).__name__})"
        else:
            newly = set(ends) - set(behind) - passed
            passed |= newly
            tracker.advance(len(newly))
            if not behind:
                return
            where = ", ".join(
                f"partition {tp.partition} at {offset} of {ends[tp]}"
                for tp, offset in sorted(behind.items())
            )
        if ops.clock() >= deadline:
            raise ProjectorBehind(
                f"the query projector (consumer group {group}) had not committed up to the "
                f"end of {topic} after {limit_s:g}s: {where}; is query-service stuck?"
            )
        await ops.sleep(PROJECTOR_POLL_S)


async def _changes(
    kafka: Kafka, scan: Scan, projection: _Projection, tracker: Tracker
) -> AsyncIterator[Change]:
    async for record in kafka.reader.read(scan):
        tracker.advance()
        change = projection.change(record)
        if change is not None:
            yield change
