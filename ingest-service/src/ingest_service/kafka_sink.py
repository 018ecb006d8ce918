"""Where accepted events go: `hr.users.v1`, keyed by employee id, through the shared producer."""

from __future__ import annotations

from typing import Protocol

from onboarding_events import HR_USERS_TOPIC, HrUserUpserted
from onboarding_runtime.kafka import EventProducer

from ingest_service.acceptor import Headers


class EventSink(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, event: HrUserUpserted, headers: Headers) -> None: ...
    async def healthy(self) -> bool: ...


class KafkaSink:
    def __init__(self, producer: EventProducer, topic: str = HR_USERS_TOPIC) -> None:
        self._producer = producer
        self._topic = topic

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, event: HrUserUpserted, headers: Headers) -> None:
        """Returns once all in-sync replicas have the record; raises `PublishError`."""
        await self._producer.publish(
            self._topic, key=event.subject, value=event.to_json(), headers=headers
        )

    async def healthy(self) -> bool:
        return await self._producer.healthy()
