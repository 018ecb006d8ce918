"""Dead-letter records: the failed record unchanged, with headers saying why, when, how often."""

from __future__ import annotations

from onboarding_runtime.kafka.consumer import DeadLetter, Failure, Record
from onboarding_runtime.kafka.producer import EventProducer

# Header names on every dead-letter record.
ERROR_CODE = "dlq-error-code"
ERROR_MESSAGE = "dlq-error-message"
ATTEMPTS = "dlq-attempts"
FIRST_FAILURE = "dlq-first-failure"
LAST_FAILURE = "dlq-last-failure"
SOURCE = "dlq-source"  # topic/partition/offset of the original record


def failure_headers(record: Record, failure: Failure) -> list[tuple[str, bytes]]:
    ours = {ERROR_CODE, ERROR_MESSAGE, ATTEMPTS, FIRST_FAILURE, LAST_FAILURE, SOURCE}
    kept = [(k, v) for k, v in (record.headers or ()) if k not in ours]
    return [
        *kept,
        (ERROR_CODE, failure.code.encode()),
        (ERROR_MESSAGE, failure.message.encode()),
        (ATTEMPTS, str(failure.attempts).encode()),
        (FIRST_FAILURE, failure.first_failure.isoformat().encode()),
        (LAST_FAILURE, failure.last_failure.isoformat().encode()),
        (SOURCE, f"{record.topic}/{record.partition}/{record.offset}".encode()),
    ]


def dead_letter_to(producer: EventProducer, topic: str) -> DeadLetter:
    async def send(record: Record, failure: Failure) -> None:
        key = (record.key or b"").decode("utf-8", "replace")
        await producer.publish(
            topic, key=key, value=record.value, headers=failure_headers(record, failure)
        )

    return send
