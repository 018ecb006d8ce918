"""Every record the running system wrote to `hr.users.v1` and `users.enriched.v1` fits its
committed strict JSON Schema (`docs/schemas/strict/`): nothing outside the contract is
written, nothing the contract requires is left out.

Records of the whole test session so far are read, plus those of a fresh employee; only
ours count (by CloudEvent `source`): tests also write raw and poison records of their own.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaConsumer
from onboarding_devstack.polling import eventually, eventually_async
from onboarding_devstack.stack import StackConfig
from onboarding_events import HR_USERS_TOPIC, USERS_ENRICHED_TOPIC

from tests.contract.test_schemas import problems
from tests.e2e.ops_support import found, new_employee, post_hr, put_okta_user

pytestmark = pytest.mark.integration

OURS = {
    HR_USERS_TOPIC: ("urn:onboarding:ingest-service", "hr.user.upserted"),
    USERS_ENRICHED_TOPIC: ("urn:onboarding:enrich-service", "user.enriched"),
}


async def _values(bootstrap: str, topic: str) -> list[bytes]:
    """Every non-tombstone value of `topic`, from the beginning to its end now."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = list(await eventually_async(lambda: consumer.assignment() or None))
        ends = await consumer.end_offsets(partitions)
        values: list[bytes] = []
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                values += [r.value for r in records if r.value is not None]
        return values
    finally:
        await consumer.stop()


def _ours(topic: str, value: bytes) -> bool:
    try:
        envelope = json.loads(value)
    except (ValueError, RecursionError):
        return False  # a poison record a test wrote (not JSON, nested thousands deep)
    source, _ = OURS[topic]
    return isinstance(envelope, dict) and envelope.get("source") == source


@pytest.mark.parametrize("topic", list(OURS))
def test_every_record_the_system_wrote_fits_the_strict_schema(
    stack: StackConfig, topic: str
) -> None:
    employee_id, email = new_employee("schema")
    put_okta_user(stack, email, ["Everyone", "Schemas"])
    post_hr(stack, employee_id, email)
    eventually(lambda: found(stack, employee_id), within=60)

    values = asyncio.run(_values(stack.bootstrap_servers, topic))
    ours = [v for v in values if _ours(topic, v)]
    _, schema = OURS[topic]
    misfits = {v: errors for v in ours if (errors := problems("strict", schema, v))}

    assert ours  # the fresh employee's, at least
    assert not misfits, next(iter(misfits.items()))
