"""Kafka records into view changes: one decoder per topic, and a partition slice of them.

Decoding is total: whatever a record holds (not JSON, nested thousands deep, not an object,
a field, extension or header of the wrong type, a time out of range), it becomes a change
or it is skipped. The projector has no dead-letter topic, so a record it could neither
decode nor drop would stall every later employee of its partition until an operator came.
A skipped record is counted (`onboarding_records_skipped_total`, consumer `view`) and
logged once by its place (topic, partition, offset) and its trace id, never by its content
(a line about one record of a batch: `kafka/handling.py`). `slice_of` guards every decoder,
so a new one cannot stall the projector either; each decoder here is guarded too, for
callers that use it alone (the rebuild tool).

HR events are read leniently (envelope only): an HR event that enrich dead-lettered as
invalid still has a status to show. What a decoder does read must have its type: an event
id that is not a string, an `hroffset` that is not a number, a dead letter's header that is
not UTF-8 text of its kind, retry-tier headers `Waiting.of` cannot read; a record with
such a value is skipped, not guessed at.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from onboarding_events import REDRIVE_HEADER, REPLAY_HEADER, UserEnriched, Waiting
from onboarding_events.waiting import ACTIVATION_REPLAY
from pydantic import ValidationError

from onboarding_runtime.kafka.consumer import Record
from onboarding_runtime.kafka.dead_letter import (
    ATTEMPTS,
    ERROR_CODE,
    ERROR_MESSAGE,
    LAST_FAILURE,
    SOURCE,
)
from onboarding_runtime.kafka.handling import logged_as
from onboarding_runtime.metrics import RECORDS_SKIPPED
from onboarding_runtime.view.versions import version_of, waiting_version
from onboarding_runtime.view.writer import Change, Delete, Put, Slice

log = logging.getLogger(__name__)

Decoder = Callable[[Record], Change | None]

# The `consumer` label of what these decoders skip: the projector's, and the rebuild tool's.
CONSUMER = "view"


class Unreadable(Exception):
    """A decoder met something it cannot read; `reason` is a short code, never the content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def slice_of(records: Sequence[Record], decode: Decoder) -> Slice:
    """`records` are one partition's, in offset order (what a batch handler receives)."""
    first = records[0]
    changes = [change for record in records if (change := decoded(record, decode)) is not None]
    return Slice((first.topic, first.partition), first.offset, records[-1].offset + 1, changes)


def decoded(record: Record, decode: Decoder) -> Change | None:
    """`decode(record)`, or None when it raises, whatever it raises (counted and logged)."""
    try:
        return decode(record)
    except Exception as exc:  # RecursionError too: a record nested thousands deep
        _skip(record, _reason(exc))
        return None


def _reason(exc: Exception) -> str:
    if isinstance(exc, Unreadable):
        return exc.reason
    if isinstance(exc, RecursionError):
        return "too_deep"
    return "undecodable"


def _skip(record: Record, reason: str) -> None:
    RECORDS_SKIPPED.labels(CONSUMER, record.topic, reason).inc()
    with logged_as(record):  # its trace id and place, not its batch's
        # The place as extras too, for a handler without our formatters (pytest's `caplog`).
        extra = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
        log.error("record skipped: %s", reason, extra=extra)


def total(decode: Decoder) -> Decoder:
    """`decode`, guarded as `slice_of` guards it: for a caller that decodes one record."""

    @functools.wraps(decode)
    def guarded(record: Record) -> Change | None:
        return decoded(record, decode)

    return guarded


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


def _number(value: object) -> int:
    """An integer given as one or as its text (`"12"`); anything else is unreadable."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Unreadable("bad_field")
    try:
        return int(value)
    except ValueError:
        raise Unreadable("bad_field") from None


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise Unreadable("bad_field")
    return value


@total
def enriched_change(record: Record) -> Change | None:
    """`users.enriched.v1`: the user's response body, versioned by its source HR event."""
    employee_id = _employee_id(record)
    if record.value is None:
        return Delete(employee_id) if employee_id else None  # a tombstone erases the user
    try:
        event = UserEnriched.from_json(record.value)
    except ValidationError:  # not JSON, too deep, or not an enriched event
        raise Unreadable("invalid_event") from None
    extra = event.model_extra or {}
    # `hroffset` orders two HR events of the same time; without it, time alone decides.
    hr_offset = _number(extra.get("hroffset", 0))
    event_id = _text(extra.get("hreventid", event.id))
    body = json.dumps(event.data.model_dump(mode="json"), separators=(",", ":"))
    return Put(
        employee_id or event.subject,
        version_of(event.time, hr_offset),
        {
            "body": body,
            "etag": '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"',
            "event_id": event_id,
            "completed_at": _record_time(record),
        },
    )


def _hr_envelope(record: Record) -> tuple[str, str, datetime]:
    """The employee id (the key), and the HR CloudEvent's id and time, read without
    validating its data."""
    employee_id = _employee_id(record)
    if not employee_id:
        raise Unreadable("no_key")
    try:
        envelope = json.loads(record.value or b"")
    except ValueError:  # not JSON, not UTF-8 (RecursionError, too deep, is the guard's)
        raise Unreadable("invalid_json") from None
    if not isinstance(envelope, dict):
        raise Unreadable("not_an_event")
    time = _parse_time(envelope.get("time")) or _record_time(record)
    return employee_id, _text(envelope.get("id", "")), time


@total
def accepted_change(record: Record) -> Change | None:
    """`hr.users.v1`: the employee's newest accepted HR event (status `pending` until done).

    A record enrich-service wrote back after a wait on a retry tier carries the version of
    the HR record it copies (`onboarding-hr-source`): the same record, not a newer one."""
    employee_id, event_id, time = _hr_envelope(record)
    # Sent again on purpose (replay, redrive): enriched again, so `pending` until done. A
    # copy without the mark is a delivery written twice, enriched once (`status.merge`).
    # enrich-service's replay of a person whose account became active changes only
    # `onboarded`: the status stays `completed` meanwhile.
    resent = any(
        key in _RESENT and not (key == REPLAY_HEADER and value == ACTIVATION_REPLAY)
        for key, value in record.headers or ()
    )
    waited = _waited(record)
    offset = waited.hr_offset if waited is not None else record.offset
    return Put(
        employee_id,
        version_of(time, offset),
        {"event_id": event_id, "accepted_at": time, "resent": resent},
    )


def _waited(record: Record) -> Waiting | None:
    try:
        return Waiting.of(record.headers or ())
    except (TypeError, ValueError):  # there, but not as enrich-service writes them
        raise Unreadable("bad_header") from None


_RESENT = frozenset({REPLAY_HEADER, REDRIVE_HEADER})


def _header(record: Record, name: str) -> str | None:
    """The last `name` header as text; one that is not UTF-8 is unreadable."""
    found: str | None = None
    for key, value in record.headers or ():
        if key == name:
            try:
                found = bytes(value or b"").decode("utf-8")
            except (TypeError, ValueError):
                raise Unreadable("bad_header") from None
    return found


def _header_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise Unreadable("bad_header") from None


def _header_time(record: Record, name: str) -> datetime | None:
    text = _header(record, name)
    if text is None:
        return None
    parsed = _parse_time(text)
    if parsed is None:
        raise Unreadable("bad_header")
    return parsed


@total
def failed_change(record: Record) -> Change | None:
    """`hr.users.v1.dlq`: the HR event unchanged; headers say why, when, and where it was."""
    employee_id, event_id, time = _hr_envelope(record)
    # `topic/partition/offset` of the HR record: the same version as its `accepted` one.
    source = _header(record, SOURCE)
    if source is None or source.count("/") < 2:
        raise Unreadable("bad_header")
    hr_offset = _header_number(source.rsplit("/", 1)[-1])
    code = _header(record, ERROR_CODE)
    code = "error" if code is None else code
    message = _header(record, ERROR_MESSAGE) or ""
    attempts = _header(record, ATTEMPTS)
    return Put(
        employee_id,
        version_of(time, hr_offset),
        {
            "event_id": event_id,
            "accepted_at": time,
            "failed_at": _header_time(record, LAST_FAILURE) or _record_time(record),
            "error": f"{code}: {message}" if message else code,
            "attempts": 0 if attempts is None else _header_number(attempts),
        },
    )


@total
def waiting_change(record: Record) -> Change | None:
    """`hr.users.v1.retry.N`: the HR event unchanged, waiting to be looked up again; its
    headers (`onboarding_events.waiting`) say why (`pending`, `scheduled`) and when. The
    version is the HR record's (`onboarding-hr-source`) and then the due time, so the next
    tier's record of the same HR record replaces this one and a newer HR event outranks both."""
    employee_id, event_id, time = _hr_envelope(record)
    waiting = _waited(record)
    if waiting is None:  # on a retry tier without them: nothing says how long it waits
        raise Unreadable("bad_header")
    return Put(
        employee_id,
        waiting_version(time, waiting.hr_offset, waiting.due_at),
        {
            "event_id": event_id,
            "accepted_at": time,
            "waiting": waiting.reason,
            "next_check_at": waiting.due_at,
            "tier": waiting.tier,
        },
    )
