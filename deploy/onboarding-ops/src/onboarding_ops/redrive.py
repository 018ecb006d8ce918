"""`dlq redrive`: send dead-lettered HR events back to `hr.users.v1` for enrichment.

The value goes back unchanged (same CloudEvent id and time) with `onboarding-redrive: <n>`;
the dead-letter headers are dropped, and so are the retry-tier headers that a dead letter
from a retry tier still carries (`onboarding_events.waiting`): the event starts afresh,
with a new first attempt and deadline, not the old ones already past. A redriven event
that fails again is dead-lettered again by the enrich service: there is no loop, since
only an operator redrives. Each dead letter sent back is then marked in the redrive topic,
so a second `redrive` does not send it again. A run cut short may have sent events it did
not mark yet; running it again sends those once more, which costs one extra enrichment and
changes nothing else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from onboarding_events import DeadLetterRedriven
from onboarding_events.waiting import without_waiting
from onboarding_runtime.kafka import dead_letter as dlq

from onboarding_ops.bootstrap import Kafka, Ops
from onboarding_ops.dead_letters import DeadLetter, read_dead_letters
from onboarding_ops.erasure_log import ErasureLog
from onboarding_ops.errors import BadArgument
from onboarding_ops.markers import REDRIVE_HEADER, with_marker
from onboarding_ops.progress import Tracker
from onboarding_ops.republish import Republisher

DLQ_HEADERS = frozenset(
    {
        dlq.ERROR_CODE,
        dlq.ERROR_MESSAGE,
        dlq.ATTEMPTS,
        dlq.FIRST_FAILURE,
        dlq.LAST_FAILURE,
        dlq.SOURCE,
    }
)


@dataclass
class RedriveSummary:
    run_id: str
    waiting: int = 0
    redriven: int = 0
    employees: int = 0
    hidden_erased: int = 0


async def redrive(
    ops: Ops, kafka: Kafka, erasures: ErasureLog, employee_id: str | None, tracker: Tracker
) -> RedriveSummary:
    found = await read_dead_letters(ops, kafka, erasures, tracker)
    waiting = [d for d in found.letters if not d.redriven]
    if employee_id is not None:
        waiting = [d for d in waiting if d.employee_id == employee_id]
        if not waiting:
            raise BadArgument(f"no dead letter is waiting for employee {employee_id}")
    summary = RedriveSummary(run_id=uuid.uuid4().hex[:12], hidden_erased=found.hidden_erased)
    summary.waiting = len(waiting)
    # The same event dead-lettered twice (a crash between dead letter and commit) is sent once.
    latest: dict[str, DeadLetter] = {}
    for letter in waiting:
        latest[letter.event_id or letter.mark] = letter
    tracker.begin("redriving", len(latest))
    async with Republisher(kafka.producer, ops.topics.hr) as out:
        for letter in latest.values():
            headers = with_marker(
                without_waiting(letter.headers),
                REDRIVE_HEADER,
                str(letter.redrives + 1),
                drop=DLQ_HEADERS,
            )
            await out.send(letter.employee_id.encode(), letter.value, headers)
            tracker.advance()
    await _mark(ops, kafka, waiting, summary.run_id)
    summary.redriven = len(latest)
    summary.employees = len({d.employee_id for d in latest.values()})
    return summary


async def _mark(ops: Ops, kafka: Kafka, letters: list[DeadLetter], run_id: str) -> None:
    value = DeadLetterRedriven(redriven_at=datetime.now(UTC), run=run_id).to_json()
    async with Republisher(kafka.producer, ops.topics.redrives) as out:
        for letter in letters:
            await out.send(letter.mark.encode(), value, [("content-type", b"application/json")])
