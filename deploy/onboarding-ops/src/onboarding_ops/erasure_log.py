"""The erasure log, read whole at the start of every command that re-publishes old events.

Keys are pseudonyms (`Pseudonymizer` with `PII_HASH_KEY`): the log names nobody in clear,
and only someone holding the key can tell whether a given employee was erased.
"""

from __future__ import annotations

from datetime import datetime

from onboarding_events import EmployeeErased
from onboarding_runtime.kafka import EventProducer
from onboarding_runtime.pii import Pseudonymizer
from pydantic import ValidationError

from onboarding_ops.scan import TopicReader


class ErasureLog:
    def __init__(self, pseudonym: Pseudonymizer, erasures: dict[str, EmployeeErased]) -> None:
        self._pseudonym = pseudonym
        self._erasures = erasures

    @classmethod
    async def load(cls, reader: TopicReader, topic: str, pseudonym: Pseudonymizer) -> ErasureLog:
        erasures: dict[str, EmployeeErased] = {}
        async for record in reader.read(await reader.plan(topic)):
            key = (record.key or b"").decode()
            if record.value is None:
                erasures.pop(key, None)  # nobody writes these; honour them as "forget"
                continue
            try:
                erasures[key] = EmployeeErased.from_json(record.value)
            except ValidationError:
                continue  # not ours to judge; an unreadable entry erases nobody
        return cls(pseudonym, erasures)

    def __len__(self) -> int:
        return len(self._erasures)

    def erased_at(self, employee_id: str) -> datetime | None:
        entry = self._erasures.get(self._pseudonym(employee_id))
        return None if entry is None else entry.erased_at

    def covers(self, employee_id: str, event_time: datetime) -> bool:
        """The event belongs to an erased person: it must not be brought back."""
        entry = self._erasures.get(self._pseudonym(employee_id))
        return entry is not None and entry.covers(event_time)


async def record_erasure(
    producer: EventProducer, topic: str, pseudonym: Pseudonymizer, employee_id: str, when: datetime
) -> None:
    await producer.publish(
        topic,
        key=pseudonym(employee_id),
        value=EmployeeErased(erased_at=when).to_json(),
        headers=[("content-type", b"application/json")],
    )
