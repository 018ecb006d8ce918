"""`users.enriched.v1` into the `users` collection."""

from __future__ import annotations

import logging

from onboarding_events import UserEnriched
from onboarding_runtime.kafka.consumer import Record
from pydantic import ValidationError

from query_service.store import UserStore, version_of

log = logging.getLogger(__name__)


async def project_enriched(record: Record, *, store: UserStore) -> None:
    employee_id = (record.key or b"").decode()
    if record.value is None:  # a tombstone erases the user
        await store.delete(employee_id)
        return
    try:
        event = UserEnriched.from_json(record.value)
    except ValidationError:
        # Our own topic: a malformed record is a bug upstream. Skip it visibly rather than
        # stall every later employee on this partition.
        log.error("malformed enriched event skipped", extra={"offset": record.offset})
        return
    extra = event.model_extra or {}
    offset = int(extra.get("hroffset", record.offset))
    micros = int(event.time.timestamp() * 1_000_000)
    await store.upsert(
        event.subject, event.data.model_dump(mode="json"), version_of(micros, offset)
    )
