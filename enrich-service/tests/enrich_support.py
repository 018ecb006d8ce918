"""Test support: the simulator's control API, HR events in, enriched and dead-letter records out."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from enrich_service.settings import Settings
from onboarding_devstack.processes import Managed, free_port
from onboarding_events import (
    HR_USER_UPSERTED,
    HR_USERS_TOPIC,
    RETRY_TOPICS,
    HrUser,
    HrUserUpserted,
    kafka_headers,
)
from onboarding_runtime.kafka import EventProducer, KafkaConnection

Offsets = dict[TopicPartition, int]
BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
TOKEN = "okta-simulator-token"


def wait_ready(url: str, proc: Managed, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        if not proc.running():
            raise RuntimeError(f"{proc.name} exited; see {proc.log_file}")
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} not ready at {url}")


EnrichFactory = Callable[..., contextlib.AbstractAsyncContextManager[Settings]]
ApiFactory = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]


class Simulator:
    """The simulator's `/_sim` control API."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._http = httpx.AsyncClient(base_url=base_url, timeout=10)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = await self._http.request(method, f"/_sim{path}", json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    async def put_user(self, email: str, **spec: Any) -> dict[str, Any]:
        body = {"email": email, "first_name": "Test", "last_name": "User", **spec}
        result: dict[str, Any] = await self._call("PUT", "/users", body)
        return result

    async def latency(self, ms: int, endpoint: str | None = None) -> None:
        await self._call("PUT", "/latency", {"ms": ms, "endpoint": endpoint})

    async def rate_limit(
        self, endpoint: str, limit: int, window_seconds: int | None = None
    ) -> None:
        body = {"endpoint": endpoint, "limit": limit, "window_seconds": window_seconds}
        await self._call("PUT", "/rate-limits", body)

    async def groups_page_size(self, size: int) -> None:
        await self._call("PUT", "/groups-page-size", {"size": size})

    async def fault(self, kind: str, count: int = 1, **spec: Any) -> None:
        await self._call("POST", "/faults", {"kind": kind, "count": count, **spec})

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def requests(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        path = f"/requests?endpoint={endpoint}" if endpoint else "/requests"
        result: list[dict[str, Any]] = await self._call("GET", path)
        return result


def unique_person() -> tuple[str, str]:
    """An employee id and an email no other test uses."""
    tag = uuid.uuid4().hex[:10]
    return f"e{tag}", f"person.{tag}@example.com"


def hr_event(
    employee_id: str,
    email: str,
    *,
    title: str = "Engineer",
    at: datetime | None = None,
    start: date | None = date(2024, 1, 15),
) -> HrUserUpserted:
    data = HrUser(
        employee_id=employee_id,
        first_name="Test",
        last_name="User",
        email=email,
        title=title,
        department="Engineering",
        start_date=start,
    )
    return HrUserUpserted(
        source="urn:test",
        type=HR_USER_UPSERTED,
        subject=employee_id,
        time=at or datetime.now(UTC),
        data=data,
    )


def times(n: int) -> list[datetime]:
    start = datetime.now(UTC)
    return [start + timedelta(milliseconds=i) for i in range(n)]


async def publish_hr(
    bootstrap: str, events: list[HrUserUpserted], headers: dict[str, str] | None = None
) -> None:
    producer = EventProducer(KafkaConnection(bootstrap))
    await producer.start()
    try:
        await asyncio.gather(
            *(
                producer.publish(
                    HR_USERS_TOPIC,
                    key=event.subject,
                    value=event.to_json(),
                    headers=kafka_headers(headers),
                )
                for event in events
            )
        )
    finally:
        await producer.stop()


async def end_offsets(bootstrap: str, topic: str) -> Offsets:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        result: Offsets = await consumer.end_offsets(partitions)
        return result
    finally:
        await consumer.stop()


async def skip_to_end(bootstrap: str, group_id: str, *topics: str) -> None:
    """Commit the group at the topics' end (`hr.users.v1` by default): a fresh service
    ignores earlier tests' events."""
    offsets: Offsets = {}
    for topic in topics or (HR_USERS_TOPIC,):
        offsets.update(await end_offsets(bootstrap, topic))
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def read_for(
    bootstrap: str, since: Offsets, keys: set[str], seconds: float
) -> list[ConsumerRecord[bytes, bytes]]:
    """Everything of `keys` written after `since` that shows up within `seconds`."""
    started = time.monotonic()
    return await read_until(
        bootstrap, since, keys, lambda _: time.monotonic() - started >= seconds, within=seconds + 5
    )


async def read_until(
    bootstrap: str,
    since: Offsets,
    keys: set[str],
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    *,
    within: float = 30.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Records of `keys` written after `since`, in each partition's order, until `done`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[ConsumerRecord[bytes, bytes]] = []
    try:
        consumer.assign(list(since))
        for tp, offset in since.items():
            consumer.seek(tp, offset)
        deadline = time.monotonic() + within
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                found.extend(r for r in records if (r.key or b"").decode() in keys)
            if done(found):
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"not done within {within}s; got {len(found)} records")
    finally:
        await consumer.stop()


async def start_at_end(bootstrap: str, settings: Settings) -> None:
    """Both of the service's groups start at the end: the HR topic's and the retry tiers'."""
    await skip_to_end(bootstrap, settings.enrich_group_id)
    await skip_to_end(bootstrap, settings.retry_group_id, *RETRY_TOPICS)


def enrich_settings(kafka_bootstrap: str, okta_url: str, group: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": kafka_bootstrap,
        "okta_org_url": okta_url,
        "okta_api_token": TOKEN,
        "enrich_group_id": group,
        "enrich_port": free_port(),
        "environment": "test",
        "log_format": "text",
        "okta_timeout_s": 1.0,
        "okta_backoff_max_s": 0.3,
        "enrich_probe_interval_s": 0.3,
        "enrich_not_found_retry_s": 30.0,
    }
    values.update(changes)
    return Settings(**values)
