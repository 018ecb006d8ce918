"""Driving the CLI from async tests, and writing and reading the private topics."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from click.testing import Result
from onboarding_events import (
    HR_USER_UPSERTED,
    USER_ENRICHED,
    EnrichedUser,
    HrUser,
    HrUserUpserted,
    UserEnriched,
    kafka_headers,
)
from onboarding_ops.bootstrap import Ops
from onboarding_ops.cli import app
from onboarding_runtime.kafka import (
    EventProducer,
    Failure,
    KafkaConnection,
    RecordCopy,
    failure_headers,
)
from typer.testing import CliRunner

TEST_PII_KEY = "test-pii-key"


@dataclass(frozen=True)
class Seen:
    """A record as read back from a topic."""

    offset: int
    timestamp: int
    key: str | None
    value: bytes | None
    headers: dict[str, str]


class OpsDriver:
    def __init__(self, ops: Ops) -> None:
        self.ops = ops
        self.settings = ops.settings
        self.topics = ops.topics

    async def invoke(self, *args: str) -> Result:
        """The CLI in a worker thread: it runs its own event loop, as in a terminal."""
        runner = CliRunner()
        return await asyncio.to_thread(runner.invoke, app, list(args), obj=self.ops)

    async def publish(
        self,
        topic: str,
        key: str,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> int:
        """Publish one record; its broker timestamp (ms)."""
        producer = EventProducer(KafkaConnection(self.settings.kafka_bootstrap_servers))
        await producer.start()
        try:
            meta = await producer.publish(
                topic, key=key, value=value, headers=list(headers or kafka_headers())
            )
        finally:
            await producer.stop()
        return int(meta.timestamp)

    async def read(self, topic: str) -> list[Seen]:
        """Every record of `topic` now, in offset order per partition (partitions in order)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap_servers)
            await admin.start()
            try:
                [described] = await admin.describe_topics([topic])
            finally:
                await admin.close()
            partitions = sorted(p["partition"] for p in described["partitions"])
            tps = [TopicPartition(topic, p) for p in partitions]
            ends = await consumer.end_offsets(tps)
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            seen: list[Seen] = []
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    seen.extend(
                        Seen(
                            r.offset,
                            r.timestamp,
                            r.key.decode() if r.key is not None else None,
                            r.value,
                            {k: bytes(v).decode() for k, v in r.headers},
                        )
                        for r in records
                    )
            return seen
        finally:
            await consumer.stop()


def hr_event(
    employee_id: str, *, time: datetime | None = None, title: str = "Engineer"
) -> HrUserUpserted:
    return HrUserUpserted(
        source="urn:test",
        type=HR_USER_UPSERTED,
        subject=employee_id,
        time=time or datetime.now(UTC),
        data=HrUser(
            employee_id=employee_id,
            first_name="Test",
            last_name="Person",
            email=f"{employee_id}@example.com",
            title=title,
        ),
    )


async def wait_past(millis: int) -> None:
    """Until the wall clock is past `millis`: a later record gets a later broker timestamp."""
    await asyncio.sleep(max(0.0, (millis + 2) / 1000 - datetime.now(UTC).timestamp()))


async def dead_letter(
    driver: OpsDriver,
    event: HrUserUpserted,
    *,
    code: str = "okta_user_not_found",
    attempts: int = 5,
    extra_headers: Sequence[tuple[str, bytes]] = (),
) -> None:
    """Write a dead letter exactly as the enrich service does."""
    now = datetime.now(UTC)
    failed = RecordCopy(
        driver.topics.hr,
        0,
        7,
        0,
        event.subject.encode(),
        event.to_json(),
        [*kafka_headers(), *extra_headers],
    )
    failure = Failure(code, "no Okta user with this email yet", attempts, now, now)
    headers = failure_headers(failed, failure)
    await driver.publish(driver.topics.dlq, event.subject, event.to_json(), headers)


def enriched_event(
    employee_id: str, *, time: datetime, hr_offset: int, groups: Sequence[str] = ("Everyone",)
) -> UserEnriched:
    """What the enrich service publishes for one HR event."""
    return UserEnriched(
        source="urn:test",
        type=USER_ENRICHED,
        subject=employee_id,
        time=time,
        data=EnrichedUser(
            id=employee_id,
            name="Test Person",
            email=f"{employee_id}@example.com",
            title=None,
            department=None,
            startDate=None,
            groups=list(groups),
            applications=[],
            onboarded=True,
        ),
        hreventid=f"hr-{employee_id}-{hr_offset}",
        hroffset=str(hr_offset),
    )
