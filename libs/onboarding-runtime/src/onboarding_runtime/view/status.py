"""The status view: where an employee's newest HR event is (pending, waiting, completed or
failed).

Each source has its own writer, so each document still has exactly one writer (FerretDB v1
does not apply an update atomically, and the topics' partitions may belong to different
consumers): `status_accepted` from `hr.users.v1`, `status_failed` from `hr.users.v1.dlq`,
`status_waiting_N` from each retry tier `hr.users.v1.retry.N`, and completion from the
`users` view itself (its version and `completed_at`). The retry tiers get a collection each,
not one between them: an employee's records on two tiers are on two topics, whose partitions
the group may give to two members (aiokafka assigns round-robin), and a writer trusts the
versions it wrote itself (`VersionedWriter`). All carry the same version for the same HR
event (a waiting one adds its due time: `versions.waiting_version`), so the status is
decided at read time by comparing them: see `merge`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from onboarding_events import RETRY_TOPICS
from pymongo.asynchronous.database import AsyncDatabase

from onboarding_runtime.kafka.consumer import Record
from onboarding_runtime.mongo import Document
from onboarding_runtime.view.records import (
    accepted_change,
    failed_change,
    slice_of,
    waiting_change,
)
from onboarding_runtime.view.users import UsersView
from onboarding_runtime.view.versions import hr_version, time_of
from onboarding_runtime.view.writer import Erased, VersionedWriter

ACCEPTED = "status_accepted"
FAILED = "status_failed"
# One per retry tier, in tier order (see the module docstring for why not one in all).
WAITING: tuple[str, ...] = tuple(f"status_waiting_{n}" for n in range(1, len(RETRY_TOPICS) + 1))

Status = Literal["pending", "scheduled", "completed", "failed"]


def merge(
    employee_id: str,
    accepted: Document | None,
    failed: Document | None,
    completed: Document | None,
    *,
    waiting: Document | None = None,
) -> dict[str, Any] | None:
    """The contract's status document, or None for an employee never seen.

    The newest version wins; a completion of the same HR event beats its failure whatever
    their versions (an event that failed once and then succeeded: redriven, or a second
    record of it written with a later time failed and the first was enriched), and both
    beat `pending`. A newer accepted event makes the status `pending` again (replay, redrive).
    A newer accepted record of the *same* event not sent again on purpose (a delivery whose
    first write timed out and whose retry was written again: enrich skips it as handled)
    has the outcome of the copy that was enriched, or it would be `pending` for good.

    `waiting` (the newest of the retry tiers' documents) says why a pending event waits and
    until when (`next_check_at`): only for the newest HR record itself, and only while it is
    pending, so its completion or failure wins, and a newer HR record is plain `pending`
    until it waits on a tier of its own.
    """
    if (
        failed is not None
        and completed is not None
        and failed.get("event_id")
        and failed.get("event_id") == completed.get("event_id")
    ):
        # The event was enriched in the end (redriven, or another record of it): its failure
        # no longer counts, even from a second record ingest stamped a little later.
        failed = None
    if (
        waiting is not None
        and waiting.get("event_id")
        and any(
            d is not None and d.get("event_id") == waiting["event_id"] for d in (failed, completed)
        )
        and (accepted is None or hr_version(str(waiting["version"])) != accepted["version"])
    ):
        # A plain second record of an event with an outcome waited too (ingest wrote the
        # delivery twice; the copy is skipped once it comes due): its wait says nothing.
        # (A redriven or replayed record of it is accepted as itself, and its wait counts.)
        waiting = None
    present = [d for d in (accepted, failed, completed, waiting) if d is not None]
    if not present:
        return None
    latest = max(hr_version(str(d["version"])) for d in present)
    newest = latest
    if accepted is not None and accepted["version"] == newest:
        # Only `accepted` is this new: a plain second record of a handled event takes the
        # outcome of the copy that was handled.
        newest = _handled_copy(accepted, failed, completed) or newest
    status: Status
    next_check_at = None
    if completed is not None and completed["version"] == newest:
        status, source, done_at, error = "completed", completed, completed.get("completed_at"), None
    elif failed is not None and failed["version"] == newest:
        status, source, done_at = "failed", failed, failed.get("failed_at")
        error = failed.get("error")
    elif waiting is not None and hr_version(str(waiting["version"])) == newest:
        status = "scheduled" if waiting.get("waiting") == "scheduled" else "pending"
        source, done_at, error = waiting, None, None
        next_check_at = waiting.get("next_check_at")
    else:
        assert accepted is not None
        status, source, done_at, error = "pending", accepted, None, None
    return {
        "id": employee_id,
        "status": status,
        "event_id": source.get("event_id"),
        "accepted_at": _iso(time_of(latest)),
        "completed_at": _iso(done_at),
        "error": error,
        "next_check_at": _iso(next_check_at),
    }


def _handled_copy(
    accepted: Document, failed: Document | None, completed: Document | None
) -> str | None:
    """The version of the completion or failure of the event `accepted` is a plain second
    record of (not marked as replayed or redriven), if there is one."""
    if accepted.get("resent") or not accepted.get("event_id"):
        return None
    same = [
        str(d["version"])
        for d in (failed, completed)
        if d is not None and d.get("event_id") == accepted["event_id"]
    ]
    return max(same) if same else None


def _newest_of(docs: Sequence[Document | None]) -> Document | None:
    """The document of the highest version among `docs` (the retry tiers' waiting ones)."""
    found = [d for d in docs if d is not None]
    return max(found, key=lambda d: str(d["version"])) if found else None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


class StatusView:
    def __init__(
        self, db: AsyncDatabase[Document], users: UsersView, *, erased: Erased | None = None
    ) -> None:
        self._db = db
        self._users = users
        self._erased = erased
        self._accepted = VersionedWriter(db, ACCEPTED, erased=erased, copies_of_events=True)
        self._failed = VersionedWriter(db, FAILED, erased=erased)
        self._waiting = {
            topic: VersionedWriter(db, name, erased=erased)
            for topic, name in zip(RETRY_TOPICS, WAITING, strict=True)
        }

    async def project_accepted(self, records: Sequence[Record]) -> int:
        return await self._accepted.apply(slice_of(records, accepted_change))

    async def project_failed(self, records: Sequence[Record]) -> int:
        return await self._failed.apply(slice_of(records, failed_change))

    async def project_waiting(self, records: Sequence[Record]) -> int:
        """One retry tier's records (one partition's, as every slice) into its collection."""
        writer = self._waiting[records[0].topic]
        return await writer.apply(slice_of(records, waiting_change))

    async def get(self, employee_id: str) -> dict[str, Any] | None:
        users = await self._users.collection()
        accepted, failed, completed, *waiting = await asyncio.gather(
            self._db[ACCEPTED].find_one({"_id": employee_id}),
            self._db[FAILED].find_one({"_id": employee_id}),
            users.find_one({"_id": employee_id}, {"version": 1, "event_id": 1, "completed_at": 1}),
            *(self._db[name].find_one({"_id": employee_id}) for name in WAITING),
        )
        if self._erased is not None:  # from before an erasure: never shown again
            accepted, failed, completed, *waiting = (
                None
                if doc is None or self._erased(employee_id, time_of(str(doc["version"])))
                else doc
                for doc in (accepted, failed, completed, *waiting)
            )
        return merge(employee_id, accepted, failed, completed, waiting=_newest_of(waiting))

    async def erase(self, employee_id: str) -> None:
        """Remove the employee from the status view (the users view has its own `erase`)."""
        writers = (self._accepted, self._failed, *self._waiting.values())
        await asyncio.gather(*(writer.erase(employee_id) for writer in writers))
