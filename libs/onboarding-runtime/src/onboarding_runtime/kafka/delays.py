"""Records that wait in Kafka until they are due: the `onboarding-due-at` header.

A record that must wait long (a person not in Okta yet; a pre-hire weeks before their
start) is written again to a delay topic with the time it comes due; the consumer of that
topic (`ConsumerRunner(due=due_at)`) leaves it in Kafka, its partition paused at it, until
then. Nothing waits in memory and nothing blocks the topic it came from.
"""

from __future__ import annotations

from onboarding_events.waiting import DUE_AT  # Unix milliseconds, ASCII digits

from onboarding_runtime.kafka.lanes import Record


def due_header(when_s: float) -> tuple[str, bytes]:
    return DUE_AT, str(int(when_s * 1000)).encode()


def due_at(record: Record) -> float | None:
    """When `record` comes due (Unix seconds); None without a readable header: now."""
    for name, value in record.headers or ():
        if name == DUE_AT:
            try:
                return int(value) / 1000
            except (TypeError, ValueError, OverflowError):
                return None  # unreadable: handled now, not held forever
    return None
