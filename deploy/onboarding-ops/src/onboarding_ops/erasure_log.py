"""The erasure log, read whole at the start of every command that re-publishes old events.

Keys are pseudonyms (`Pseudonymizer` with `PII_HASH_KEY`): the log names nobody in clear,
and only someone holding the key can tell whether a given employee was erased.
"""

from __future__ import annotations

from datetime import datetime

from onboarding_events import EmployeeErased
from onboarding_runtime.erasures import Erasures
from onboarding_runtime.kafka import EventProducer
from onboarding_runtime.pii import Pseudonymizer

from onboarding_ops.scan import TopicReader


class ErasureLog(Erasures):
    """`Erasures` as they stand now, read once from the whole topic."""

    @classmethod
    async def load(cls, reader: TopicReader, topic: str, pseudonym: Pseudonymizer) -> ErasureLog:
        erasures = cls(pseudonym)
        async for record in reader.read(await reader.plan(topic)):
            erasures.apply(record.key, record.value)
        return erasures


async def record_erasure(
    producer: EventProducer, topic: str, pseudonym: Pseudonymizer, employee_id: str, when: datetime
) -> None:
    await producer.publish(
        topic,
        key=pseudonym(employee_id),
        value=EmployeeErased(erased_at=when).to_json(),
        headers=[("content-type", b"application/json")],
    )
