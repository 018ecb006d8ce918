"""Reading `hr.users.v1.dlq`: each dead letter with why, when and after how many attempts.

Which dead letters were redriven already is remembered in the redrive topic (key
`<partition>/<offset>` of the dead letter); a redriven event that fails again is a new dead
letter, so it shows up again, with its redrive count. A dead letter from a retry tier (a
person not found in Okta by the deadline) still carries the tier's headers: they say why it
waited and since when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiokafka import ConsumerRecord
from onboarding_events import Waiting, header_map, redrive_key
from onboarding_runtime.kafka import dead_letter as dlq

from onboarding_ops.bootstrap import Kafka, Ops
from onboarding_ops.envelope import read_envelope
from onboarding_ops.erasure_log import ErasureLog
from onboarding_ops.markers import REDRIVE_HEADER
from onboarding_ops.progress import Tracker


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    employee_id: str
    event_id: str | None
    event_time: datetime | None
    code: str
    message: str
    attempts: int | None
    failed_at: str
    redrives: int  # how often this event had been redriven when it failed this time
    redriven: bool  # this dead letter was sent back already
    waited: Waiting | None  # it came from a retry tier (None: from hr.users.v1, or unreadable)
    value: bytes | None
    headers: list[tuple[str, bytes]]

    @property
    def mark(self) -> str:
        """Its key in the redrive log."""
        return redrive_key(self.partition, self.offset)


@dataclass(frozen=True)
class DeadLetters:
    letters: list[DeadLetter]  # erased employees' are left out
    hidden_erased: int


async def read_dead_letters(
    ops: Ops, kafka: Kafka, erasures: ErasureLog, tracker: Tracker
) -> DeadLetters:
    marks = await read_redrive_marks(ops, kafka)
    scan = await kafka.reader.plan(ops.topics.dlq)
    tracker.begin(f"reading {ops.topics.dlq}", scan.total)
    letters: list[DeadLetter] = []
    hidden = 0
    async for record in kafka.reader.read(scan):
        tracker.advance()
        letter = _dead_letter(record, marks)
        erased_at = erasures.erased_at(letter.employee_id)
        # An unreadable event from an erased employee is hidden too: it may hold their data.
        if erased_at is not None and (letter.event_time is None or letter.event_time <= erased_at):
            hidden += 1
            continue
        letters.append(letter)
    return DeadLetters(letters, hidden)


async def read_redrive_marks(ops: Ops, kafka: Kafka) -> set[str]:
    scan = await kafka.reader.plan(ops.topics.redrives)
    return {(r.key or b"").decode() async for r in kafka.reader.read(scan)}


def _dead_letter(record: ConsumerRecord[bytes, bytes], marks: set[str]) -> DeadLetter:
    headers = header_map(record.headers)
    envelope = read_envelope(record.value)
    attempts = headers.get(dlq.ATTEMPTS, "")
    redrives = headers.get(REDRIVE_HEADER, "0")
    return DeadLetter(
        partition=record.partition,
        offset=record.offset,
        employee_id=(record.key or b"").decode("utf-8", "replace"),
        event_id=envelope.id if envelope else None,
        event_time=envelope.time if envelope else None,
        code=headers.get(dlq.ERROR_CODE, "unknown"),
        message=headers.get(dlq.ERROR_MESSAGE, ""),
        attempts=int(attempts) if attempts.isdigit() else None,
        failed_at=headers.get(dlq.LAST_FAILURE, ""),
        redrives=int(redrives) if redrives.isdigit() else 0,
        redriven=redrive_key(record.partition, record.offset) in marks,
        waited=_waited(record.headers),
        value=record.value,
        headers=[(k, bytes(v)) for k, v in record.headers],
    )


def _waited(headers: Sequence[tuple[str, bytes]]) -> Waiting | None:
    """Only shown: a dead letter whose tier headers are unreadable is listed all the same."""
    try:
        return Waiting.of(headers)
    except ValueError:
        return None
