"""One malformed record never stops the projector (real broker and database): a record nested
50,000 deep, or with a field of the wrong type, is skipped, counted and logged by its place,
and the good records behind it in the same partition are projected."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka.partitioner import DefaultPartitioner
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_events import (
    HR_USERS_TOPIC,
    USER_ENRICHED,
    USERS_ENRICHED_TOPIC,
    UserEnriched,
    kafka_headers,
)
from onboarding_runtime.kafka import EventProducer, KafkaConnection
from onboarding_runtime.logging import JsonFormatter
from prometheus_client import REGISTRY
from query_support import Publisher, enriched_user

pytestmark = pytest.mark.integration

DEEP = b"[" * 50_000
PARTITIONS = 6  # of both topics, as `onboarding-ops topics` makes them
TRACE_ID = "5c3b1f0e9d8a47b6a1e2d3c4b5a69788"


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[EventProducer]:
    """A plain producer, as anyone with a Kafka client has."""
    plain = EventProducer(KafkaConnection(kafka_bootstrap))
    await plain.start()
    try:
        yield plain
    finally:
        await plain.stop()


def keys_in_one_partition(prefix: str, count: int) -> list[str]:
    """Employee ids our producers put in one partition (the Java client's murmur2), so a
    good record after the bad ones is read after them."""
    every = list(range(PARTITIONS))
    partition_of = DefaultPartitioner()
    wanted = partition_of(f"{prefix}-0".encode(), every, every)
    keys = (f"{prefix}-{n}" for n in range(10_000))
    return [k for k in keys if partition_of(k.encode(), every, every) == wanted][:count]


class JsonLines(logging.Handler):
    """Each line as the service writes it, formatted where it is logged (its context's
    fields: trace id, topic, partition, offset)."""

    def __init__(self) -> None:
        super().__init__()
        self.formatter = JsonFormatter("query-service")
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def skip_lines() -> Iterator[JsonLines]:
    handler = JsonLines()
    logger = logging.getLogger("onboarding_runtime.view.records")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def skipped(topic: str) -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "onboarding_records_skipped"
        for sample in metric.samples
        if sample.name.endswith("_total")
        and sample.labels["consumer"] == "view"
        and sample.labels["topic"] == topic
    )


def skips_logged(caplog: pytest.LogCaptureFixture, topic: str) -> list[tuple[int, int]]:
    """(partition, offset) of each skip logged for `topic`."""
    return [
        (r.__dict__["partition"], r.__dict__["offset"])
        for r in caplog.records
        if r.name == "onboarding_runtime.view.records" and r.__dict__.get("topic") == topic
    ]


async def readable(api: httpx.AsyncClient, employee_id: str) -> bool | None:
    """True once the user is there; None ("not yet") before."""
    return True if (await api.get(f"/v1/users/{employee_id}")).status_code == 200 else None


async def pending(api: httpx.AsyncClient, employee_id: str) -> bool | None:
    response = await api.get(f"/v1/users/{employee_id}/status")
    ok = response.status_code == 200 and response.json()["status"] == "pending"
    return True if ok else None


async def test_the_users_view_goes_past_malformed_enriched_records(
    api: httpx.AsyncClient,
    publish: Publisher,
    producer: EventProducer,
    unique_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, deep_user, typed_user, c = keys_in_one_partition(unique_name, 4)
    wrong_type = UserEnriched(
        source="urn:test",
        type=USER_ENRICHED,
        subject=typed_user,
        data=enriched_user(typed_user),
        hreventid="hr-1",
        hroffset="abc",
    ).to_json()
    with caplog.at_level(logging.ERROR, logger="onboarding_runtime.view.records"):
        before = skipped(USERS_ENRICHED_TOPIC)
        first = await publish.enriched(await publish.hr(a))
        bad = [
            await producer.publish(
                USERS_ENRICHED_TOPIC, key=key, value=value, headers=kafka_headers()
            )
            for key, value in ((deep_user, DEEP), (typed_user, wrong_type))
        ]
        last = await publish.enriched(await publish.hr(c))
        assert {first.partition, last.partition, *(w.partition for w in bad)} == {last.partition}

        went_on: bool = await eventually(lambda: readable(api, c))  # behind both bad records
        assert went_on

        counted, logged = (
            skipped(USERS_ENRICHED_TOPIC) - before,
            skips_logged(caplog, USERS_ENRICHED_TOPIC),
        )

    assert await readable(api, a)
    assert not await readable(api, deep_user)
    assert not await readable(api, typed_user)
    for written in bad:  # each logged once, by place
        assert logged.count((written.partition, written.offset)) == 1
    assert counted >= len(bad)  # at least ours (other tests' bad records may be skipped too)
    assert all(typed_user not in r.getMessage() for r in caplog.records)


async def test_the_status_view_goes_past_malformed_hr_records(
    api: httpx.AsyncClient,
    publish: Publisher,
    producer: EventProducer,
    unique_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    deep_user, dated_user, c = keys_in_one_partition(unique_name, 3)
    out_of_range = json.loads((await publish.hr(dated_user)).event.to_json())
    out_of_range["time"] = "0001-01-01T00:00:00+01:00"  # no UTC time: version_of overflows
    with caplog.at_level(logging.ERROR, logger="onboarding_runtime.view.records"):
        before = skipped(HR_USERS_TOPIC)
        bad = [
            await producer.publish(HR_USERS_TOPIC, key=key, value=value, headers=kafka_headers())
            for key, value in (
                (deep_user, DEEP),
                (dated_user, json.dumps(out_of_range).encode()),
            )
        ]
        good = await publish.hr(c, time=datetime.now(UTC))
        assert {good.partition, *(w.partition for w in bad)} == {good.partition}

        went_on: bool = await eventually(lambda: pending(api, c))  # behind both bad records
        assert went_on

        counted = skipped(HR_USERS_TOPIC) - before
        logged = skips_logged(caplog, HR_USERS_TOPIC)

    assert not await pending(api, deep_user)
    for written in bad:
        assert logged.count((written.partition, written.offset)) == 1
    # At least ours: the session's broker holds other tests' bad HR records, which another
    # projector in this process may skip meanwhile (logged and counted a moment apart).
    assert counted >= len(bad)


async def test_a_skipped_record_is_logged_in_its_own_trace_not_its_batchs(
    api: httpx.AsyncClient, producer: EventProducer, unique_name: str, skip_lines: JsonLines
) -> None:
    traceparent = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
    bad = await producer.publish(
        USERS_ENRICHED_TOPIC,
        key=unique_name,
        value=DEEP,
        headers=kafka_headers({"traceparent": traceparent, "correlation-id": TRACE_ID}),
    )
    place = (USERS_ENRICHED_TOPIC, bad.partition, bad.offset)

    def logged() -> dict[str, object] | None:
        for line in list(skip_lines.lines):
            if (line["topic"], line["partition"], line["offset"]) == place:
                return line
        return None

    line = await eventually(logged)

    assert line["trace_id"] == line["correlation_id"] == TRACE_ID
    assert "last_offset" not in line  # the record's place, not its batch's
