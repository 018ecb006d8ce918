"""Redrive on the running stack: once the cause is fixed, a redriven event completes the user.

The dead letter is written the way the enrich service writes one (the failed HR event
unchanged, with its failure headers): the enrich service dead-letters an unknown Okta user
only after ENRICH_NOT_FOUND_RETRY_S (an hour by default), longer than a test may take.
From the redrive on, everything is the real stack.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime

from onboarding_devstack.stack import StackConfig
from onboarding_events import (
    HR_USER_UPSERTED,
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    HrUser,
    HrUserUpserted,
    kafka_headers,
)
from onboarding_runtime.kafka import EventProducer, Failure, failure_headers

from tests.e2e.ops_support import found, new_employee, ops, put_okta_user
from tests.e2e.polling import eventually


class _FailedRecord:
    def __init__(self, event: HrUserUpserted) -> None:
        self.topic, self.partition, self.offset, self.timestamp = HR_USERS_TOPIC, 0, 0, 0
        self.key, self.value, self.headers = (
            event.subject.encode(),
            event.to_json(),
            kafka_headers(),
        )


def _dead_letter(stack: StackConfig, event: HrUserUpserted) -> None:
    now = datetime.now(UTC)
    failure = Failure("okta_user_not_found", "no Okta user with this email yet", 12, now, now)

    async def send() -> None:
        producer = EventProducer(stack.bootstrap_servers)
        await producer.start()
        try:
            await producer.publish(
                HR_USERS_DLQ_TOPIC,
                key=event.subject,
                value=event.to_json(),
                headers=failure_headers(_FailedRecord(event), failure),
            )
        finally:
            await producer.stop()

    # Its own thread and event loop: the test session's loop belongs to pytest-asyncio.
    worker = threading.Thread(target=asyncio.run, args=(send(),))
    worker.start()
    worker.join(timeout=30)


def test_redrive_after_the_cause_is_fixed_completes_the_user(stack: StackConfig) -> None:
    employee_id, email = new_employee("redrive")
    event = HrUserUpserted(
        source="urn:onboarding:ingest-service",
        type=HR_USER_UPSERTED,
        subject=employee_id,
        data=HrUser(employee_id=employee_id, first_name="Op", last_name="Test", email=email),
    )
    _dead_letter(stack, event)
    listed = ops(stack, "dlq", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {"employee_id": employee_id, "error_code": "okta_user_not_found"}.items() <= next(
        r for r in rows if r["employee_id"] == employee_id
    ).items()

    put_okta_user(stack, email, ["Everyone", "Redriven"])  # the cause, fixed
    redriven = ops(stack, "dlq", "redrive", "--employee", employee_id)

    assert redriven.returncode == 0, redriven.stderr
    user = eventually(lambda: found(stack, employee_id), timeout=60)
    assert user.json()["groups"] == ["Everyone", "Redriven"]
    again = ops(stack, "dlq", "redrive", "--employee", employee_id)
    assert again.returncode == 2  # sent back once; nothing waits any more
    assert f"no dead letter is waiting for employee {employee_id}" in again.stderr
