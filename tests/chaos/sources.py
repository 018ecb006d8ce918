"""What the checker reads, behind one port: the topics and the query API.

`Sources` is the port; `LiveSources` reads the real broker (a consumer without a group,
every partition from its beginning to its end as it was when asked) and the query service
over HTTP; `tests.chaos.fakes.FakeSources` holds synthetic records and answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from onboarding_events import ERASURES_TOPIC, EmployeeErased
from onboarding_runtime.pii import Pseudonymizer

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class TopicRecord:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes | None  # None: a tombstone
    headers: tuple[tuple[str, bytes], ...] = ()

    def header(self, name: str) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: JsonObject | None


class Sources(Protocol):
    async def records(self, topic: str) -> Sequence[TopicRecord]:
        """Every record of `topic`, each partition in offset order."""
        ...

    async def user(self, employee_id: str) -> HttpAnswer:
        """`GET /v1/users/{id}`."""
        ...

    async def status(self, employee_id: str) -> HttpAnswer:
        """`GET /v1/users/{id}/status`."""
        ...


class LiveSources:
    """The broker at `bootstrap` and the query service at `query_url`; an async context."""

    def __init__(
        self,
        bootstrap: str,
        query_url: str,
        *,
        read_key: str | None = None,
        timeout_s: float = 30.0,
        http_attempts: int = 5,
    ) -> None:
        self._bootstrap = bootstrap
        self._timeout_s = timeout_s
        self._http_attempts = http_attempts
        headers = {"authorization": f"Bearer {read_key}"} if read_key else {}
        self._http = httpx.AsyncClient(
            base_url=query_url.rstrip("/"), headers=headers, timeout=timeout_s
        )

    async def __aenter__(self) -> LiveSources:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    async def records(self, topic: str) -> Sequence[TopicRecord]:
        return await read_topic(self._bootstrap, topic, timeout_s=self._timeout_s)

    async def user(self, employee_id: str) -> HttpAnswer:
        return await self._get(f"/v1/users/{employee_id}")

    async def status(self, employee_id: str) -> HttpAnswer:
        return await self._get(f"/v1/users/{employee_id}/status")

    async def _get(self, path: str) -> HttpAnswer:
        """A 503 or no answer is asked again (briefly): the check runs on a quiet system."""
        for attempt in range(self._http_attempts):
            try:
                response = await self._http.get(path)
            except httpx.TransportError:
                if attempt + 1 == self._http_attempts:
                    raise
            else:
                if response.status_code != 503 or attempt + 1 == self._http_attempts:
                    return HttpAnswer(response.status_code, _json(response))
            await asyncio.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")


def _json(response: httpx.Response) -> JsonObject | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def read_topic(bootstrap: str, topic: str, *, timeout_s: float = 30.0) -> list[TopicRecord]:
    """Every record of `topic` up to its end when called; no consumer group, nothing committed."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        request_timeout_ms=int(timeout_s * 1000),
    )
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    await consumer.start()
    try:
        await admin.start()
        [described] = await admin.describe_topics([topic])
        if described["error_code"] or not described["partitions"]:
            raise LookupError(f"topic {topic} does not exist")
        tps = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        ends: dict[Any, int] = await consumer.end_offsets(tps)
        starts: dict[Any, int] = await consumer.beginning_offsets(tps)
        pending = {tp for tp in tps if starts[tp] < ends[tp]}
        consumer.assign(list(pending))
        for tp in pending:
            consumer.seek(tp, starts[tp])
        found: list[TopicRecord] = []
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} made no progress for {timeout_s}s")
            batches = await consumer.getmany(*pending, timeout_ms=500)
            if batches:
                deadline = time.monotonic() + timeout_s
            for tp, batch in batches.items():
                found += [_record(topic, r) for r in batch if r.offset < ends[tp]]
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        found.sort(key=lambda r: (r.partition, r.offset))
        return found
    finally:
        await consumer.stop()
        await admin.close()


def _record(topic: str, record: Any) -> TopicRecord:
    key = record.key.decode(errors="replace") if record.key is not None else None
    headers = tuple((str(k), bytes(v or b"")) for k, v in record.headers or ())
    return TopicRecord(topic, record.partition, record.offset, key, record.value, headers)


async def erasure_times(
    bootstrap: str, employee_ids: Sequence[str], pii_hash_key: str
) -> Mapping[str, datetime]:
    """When each of `employee_ids` was erased, from `erasures.v1` (the latest record wins);
    `pii_hash_key` must be the services' `PII_HASH_KEY`."""
    pseudonym = Pseudonymizer(pii_hash_key.encode())
    wanted = {pseudonym(e): e for e in employee_ids}
    found: dict[str, datetime] = {}
    for record in await read_topic(bootstrap, ERASURES_TOPIC):
        employee_id = wanted.get(record.key or "")
        if employee_id is not None and record.value is not None:
            found[employee_id] = EmployeeErased.from_json(record.value).erased_at
    return found
