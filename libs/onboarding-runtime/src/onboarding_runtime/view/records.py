"""Kafka records into view changes: one decoder per topic, and a partition slice of them.

A record that cannot be decoded is skipped with a log line (never its content): these are
our own topics, so a malformed record is a bug upstream, and stalling every later employee
of the partition behind it would be worse. HR events are read leniently (envelope only):
an HR event that enrich dead-lettered as invalid still has a status to show.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from onboarding_events import UserEnriched, header_map
from pydantic import ValidationError

from onboarding_runtime.kafka.consumer import Record
from onboarding_runtime.kafka.dead_letter import (
    ATTEMPTS,
    ERROR_CODE,
    ERROR_MESSAGE,
    LAST_FAILURE,
    SOURCE,
)
from onboarding_runtime.view.versions import version_of
from onboarding_runtime.view.writer import Change, Delete, Put, Slice

log = logging.getLogger(__name__)

Decoder = Callable[[Record], Change | None]


def slice_of(records: Sequence[Record], decode: Decoder) -> Slice:
    """`records` are one partition's, in offset order (what a batch handler receives)."""
    first = records[0]
    changes = [change for record in records if (change := decode(record)) is not None]
    return Slice((first.topic, first.partition), first.offset, records[-1].offset + 1, changes)


def _employee_id(record: Record) -> str:
    return (record.key or b"").decode("utf-8", "replace")


def _record_time(record: Record) -> datetime:
    return datetime.fromtimestamp(record.timestamp / 1000, UTC)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _skip(record: Record, why: str) -> None:
    log.error(
        "record skipped: %s",
        why,
        extra={"topic": record.topic, "partition": record.partition, "offset": record.offset},
    )


def enriched_change(record: Record) -> Change | None:
    """`users.enriched.v1`: the user's response body, versioned by its source HR event."""
    employee_id = _employee_id(record)
    if record.value is None:
        return Delete(employee_id) if employee_id else None  # a tombstone erases the user
    try:
        event = UserEnriched.from_json(record.value)
    except ValidationError:
        _skip(record, "malformed enriched event")
        return None
    extra = event.model_extra or {}
    # `hroffset` orders two HR events of the same time; without it, time alone decides.
    hr_offset = int(extra.get("hroffset", 0))
    body = json.dumps(event.data.model_dump(mode="json"), separators=(",", ":"))
    return Put(
        employee_id or event.subject,
        version_of(event.time, hr_offset),
        {
            "body": body,
            "etag": '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"',
            "event_id": str(extra.get("hreventid", event.id)),
            "completed_at": _record_time(record),
        },
    )


def _hr_envelope(record: Record) -> tuple[str, datetime] | None:
    """The HR CloudEvent's id and time, read without validating its data."""
    try:
        envelope = json.loads(record.value or b"")
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        return None
    time = _parse_time(envelope.get("time")) or _record_time(record)
    return str(envelope.get("id", "")), time


def accepted_change(record: Record) -> Change | None:
    """`hr.users.v1`: the employee's newest accepted HR event (status `pending` until done)."""
    employee_id, envelope = _employee_id(record), _hr_envelope(record)
    if not employee_id or envelope is None:
        _skip(record, "HR record without key or CloudEvent")
        return None
    event_id, time = envelope
    return Put(
        employee_id,
        version_of(time, record.offset),
        {"event_id": event_id, "accepted_at": time},
    )


def failed_change(record: Record) -> Change | None:
    """`hr.users.v1.dlq`: the HR event unchanged; headers say why, when, and where it was."""
    employee_id, envelope = _employee_id(record), _hr_envelope(record)
    if not employee_id or envelope is None:
        _skip(record, "dead letter without key or CloudEvent")
        return None
    event_id, time = envelope
    headers = header_map(record.headers)
    # `topic/partition/offset` of the HR record: the same version as its `accepted` one.
    hr_offset = _int(headers.get(SOURCE, "").rsplit("/", 1)[-1])
    code = headers.get(ERROR_CODE, "error")
    message = headers.get(ERROR_MESSAGE, "")
    return Put(
        employee_id,
        version_of(time, hr_offset),
        {
            "event_id": event_id,
            "accepted_at": time,
            "failed_at": _parse_time(headers.get(LAST_FAILURE)) or _record_time(record),
            "error": f"{code}: {message}" if message else code,
            "attempts": _int(headers.get(ATTEMPTS, "")),
        },
    )
