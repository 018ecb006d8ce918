"""Helpers for the query-service tests: the app in-process on the real broker and database,
and records published the way ingest, enrich and the dead-letter policy publish them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from asgi_lifespan import LifespanManager
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_events import (
    HR_USER_UPSERTED,
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    USER_ENRICHED,
    USERS_ENRICHED_TOPIC,
    EnrichedUser,
    HrUser,
    HrUserUpserted,
    UserEnriched,
    Waiting,
    kafka_headers,
)
from onboarding_events.waiting import Reason
from onboarding_runtime.kafka import EventProducer
from query_service.app import create_app
from query_service.settings import Settings

READ_KEY = "read-key-for-tests"


def with_database(url: str, name: str) -> str:
    """`url` with its database replaced by `name` (options kept)."""
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def make_settings(**overrides: Any) -> Settings:
    fields: dict[str, Any] = {"environment": "test", "log_format": "text", "read_api_key": None}
    fields.update(overrides)
    return Settings(**fields)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.ASGITransport]:
    """The app with its lifespan (so its projector runs), as an HTTP transport."""
    app = create_app(settings)
    # Generous bounds: shutting down while the database is down waits for its timeouts.
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        yield httpx.ASGITransport(app=manager.app)


def client_of(transport: httpx.ASGITransport, **headers: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, base_url="http://query", headers=headers)


def enriched_user(employee_id: str, *, title: str = "Software Engineer") -> EnrichedUser:
    return EnrichedUser(
        id=employee_id,
        name="Jane Doe",
        email=f"{employee_id}@example.com",
        title=title,
        department="Engineering",
        startDate="2024-01-15",
        groups=["Everyone", "Engineering"],
        applications=["Slack"],
        onboarded=True,
    )


@dataclass(frozen=True)
class Sent:
    partition: int
    offset: int


@dataclass(frozen=True)
class SentHr:
    event: HrUserUpserted
    partition: int
    offset: int


class Publisher:
    """Publishes as ingest (HR), enrich (enriched, tombstone, retry tiers) and the DLQ
    policy do."""

    def __init__(self, producer: EventProducer) -> None:
        self._producer = producer

    async def hr(
        self, employee_id: str, *, time: datetime | None = None, event_id: str | None = None
    ) -> SentHr:
        """An HR event as ingest writes it (`event_id`: a copy of an earlier one)."""
        event = HrUserUpserted(
            **({"id": event_id} if event_id else {}),
            source="urn:test",
            type=HR_USER_UPSERTED,
            subject=employee_id,
            time=time or datetime.now(UTC),
            data=HrUser(
                employee_id=employee_id,
                first_name="Jane",
                last_name="Doe",
                email=f"{employee_id}@example.com",
            ),
        )
        meta = await self._producer.publish(
            HR_USERS_TOPIC, key=employee_id, value=event.to_json(), headers=kafka_headers()
        )
        return SentHr(event, int(meta.partition), int(meta.offset))

    async def replay(self, hr: SentHr) -> SentHr:
        """The same HR event again, at a new offset, as `onboarding-ops replay` does."""
        meta = await self._producer.publish(
            HR_USERS_TOPIC,
            key=hr.event.subject,
            value=hr.event.to_json(),
            headers=kafka_headers({"onboarding-replay": "test"}),
        )
        return SentHr(hr.event, int(meta.partition), int(meta.offset))

    async def again(self, hr: SentHr) -> SentHr:
        """The same HR event written a second time, unmarked: a delivery whose first write
        timed out (503) and whose retry was written again."""
        meta = await self._producer.publish(
            HR_USERS_TOPIC, key=hr.event.subject, value=hr.event.to_json(), headers=kafka_headers()
        )
        return SentHr(hr.event, int(meta.partition), int(meta.offset))

    async def enriched(self, hr: SentHr, *, title: str = "Software Engineer") -> Sent:
        event = UserEnriched(
            source="urn:test",
            type=USER_ENRICHED,
            subject=hr.event.subject,
            time=hr.event.time,
            data=enriched_user(hr.event.subject, title=title),
            hreventid=hr.event.id,
            hroffset=str(hr.offset),
        )
        return await self.raw_enriched(hr.event.subject, event.to_json())

    async def raw_enriched(self, employee_id: str, value: bytes | None) -> Sent:
        meta = await self._producer.publish(
            USERS_ENRICHED_TOPIC, key=employee_id, value=value, headers=kafka_headers()
        )
        return Sent(int(meta.partition), int(meta.offset))

    async def waiting(
        self, hr: SentHr, *, tier: int, due_at: datetime, reason: Reason = "pending"
    ) -> Waiting:
        """The HR record written again, unchanged, to retry tier `tier` (as enrich does for
        a person not in Okta yet), due at `due_at`."""
        waiting = Waiting(
            tier=tier,
            due_at=due_at,
            first_attempt_at=hr.event.time,
            wait_until=due_at + timedelta(days=30),
            hr_topic=HR_USERS_TOPIC,
            hr_partition=hr.partition,
            hr_offset=hr.offset,
            reason=reason,
        )
        await self._producer.publish(
            waiting.topic,
            key=hr.event.subject,
            value=hr.event.to_json(),
            headers=[*kafka_headers(), *waiting.headers()],
        )
        return waiting

    async def dead_letter(self, hr: SentHr, *, code: str, message: str) -> None:
        now = datetime.now(UTC)
        headers = [
            *kafka_headers(),
            ("dlq-error-code", code.encode()),
            ("dlq-error-message", message.encode()),
            ("dlq-attempts", b"5"),
            ("dlq-first-failure", (now - timedelta(seconds=3)).isoformat().encode()),
            ("dlq-last-failure", now.isoformat().encode()),
            ("dlq-source", f"{HR_USERS_TOPIC}/{hr.partition}/{hr.offset}".encode()),
        ]
        await self._producer.publish(
            HR_USERS_DLQ_TOPIC, key=hr.event.subject, value=hr.event.to_json(), headers=headers
        )


async def committed(bootstrap: str, group_id: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


async def wait_committed_past(bootstrap: str, group_id: str, topic: str, sent: Sent) -> None:
    """Until the group's committed offset on `sent`'s partition is past it: it was written."""
    tp = TopicPartition(topic, sent.partition)

    async def probe() -> bool | None:
        return True if (await committed(bootstrap, group_id)).get(tp, -1) > sent.offset else None

    await eventually(probe)
