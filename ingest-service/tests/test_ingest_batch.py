"""`POST /v1/hr/webhooks:batch` on the real broker: one answer per record, in order; each
record written once per delivery, each employee's records in the batch's order."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

import httpx
import pytest
from ingest_service.acceptor import Headers
from ingest_service.kafka_sink import KafkaSink
from ingest_service.settings import Settings
from ingest_support import SECRET, SEED, read_topic, running, signed, variant
from onboarding_events import HrUserUpserted, header_map
from onboarding_runtime.kafka import (
    EventProducer,
    KafkaConnection,
    PublishError,
    TopicSpec,
    ensure_topics,
)

pytestmark = pytest.mark.integration

BATCH = "/v1/hr/webhooks:batch"


def person(n: int, **changes: Any) -> dict[str, Any]:
    return {**SEED, "employee_id": f"emp-{n}", "email": f"person.{n}@example.com", **changes}


def statuses(response: httpx.Response) -> list[int]:
    return [result["status"] for result in response.json()["results"]]


def accepted_ids(response: httpx.Response) -> list[str]:
    return [r["event_id"] for r in response.json()["results"] if r["status"] == 202]


async def events(settings: Settings, topic: str, *, expect: int) -> list[HrUserUpserted]:
    records = await read_topic(settings.kafka_bootstrap_servers, topic, expect=expect, settle=1.5)
    return [HrUserUpserted.from_json(record.value) for record in records]


async def test_each_record_is_answered_in_order_and_only_the_valid_ones_are_written(
    settings: Settings, hr_topic: str
) -> None:
    batch = [
        person(1),
        person(2, email="not-an-address"),
        person(3),
        {"employee_id": "4 4", "first_name": "Ann"},
        person(5),
    ]
    async with running(settings, hr_topic) as client:
        response = await client.post(BATCH, json=batch, headers={"webhook-id": "batch-order"})
        alone = [await client.post("/v1/hr/webhook", json=batch[n]) for n in (1, 3)]

    assert response.status_code == 207
    assert "retry-after" not in response.headers
    assert statuses(response) == [202, 422, 202, 422, 202]
    results = response.json()["results"]
    assert [r["employee_id"] for r in results if r["status"] == 202] == ["emp-1", "emp-3", "emp-5"]
    # The reasons the single webhook gives for the same record, never the input itself.
    assert [r["errors"] for r in results if r["status"] == 422] == [
        a.json()["detail"] for a in alone
    ]
    assert "not-an-address" not in response.text
    written = await events(settings, hr_topic, expect=3)
    assert [e.id for e in written] == accepted_ids(response)
    assert [e.data.model_dump(mode="json") for e in written] == [person(n) for n in (1, 3, 5)]


async def test_the_same_batch_again_writes_nothing_and_answers_the_same_event_ids(
    settings: Settings, hr_topic: str
) -> None:
    batch = [person(1), person(2, email="nope"), person(3)]
    async with running(settings, hr_topic) as client:
        first = await client.post(BATCH, json=batch, headers={"webhook-id": "batch-again"})
        again = await client.post(BATCH, json=batch, headers={"webhook-id": "batch-again"})
    async with running(settings, hr_topic) as client:  # a new process: only Kafka remembers
        restarted = await client.post(BATCH, json=batch, headers={"webhook-id": "batch-again"})
        keyed = await client.post(BATCH, json=batch[:1], headers={"Idempotency-Key": "batch-k"})
        keyed_again = await client.post(
            BATCH, json=batch[:1], headers={"Idempotency-Key": "batch-k"}
        )

    assert first.status_code == again.status_code == restarted.status_code == 207
    assert first.json() == again.json() == restarted.json()
    assert keyed.json() == keyed_again.json()
    records = await read_topic(settings.kafka_bootstrap_servers, hr_topic, expect=3, settle=1.5)
    assert [HrUserUpserted.from_json(r.value).id for r in records] == [
        *accepted_ids(first),
        *accepted_ids(keyed),
    ]
    # Record n of a batch is delivery `{webhook-id}#n`, on the record as its `delivery-id`.
    assert [header_map(r.headers)["delivery-id"] for r in records] == [
        "batch-again#0",
        "batch-again#2",
        "batch-k#0",
    ]


async def test_an_ndjson_batch_is_one_record_per_line(settings: Settings, hr_topic: str) -> None:
    lines = [json.dumps(person(1)), "", json.dumps(person(2)), "{not json", json.dumps(person(3))]
    body = ("\r\n".join(lines) + "\n").encode()
    async with running(settings, hr_topic) as client:
        response = await client.post(
            BATCH, content=body, headers={"content-type": "application/x-ndjson"}
        )

    assert response.status_code == 207
    assert statuses(response) == [202, 202, 422, 202]  # the blank line is no record
    assert response.json()["results"][2]["errors"][0]["type"] == "json_invalid"
    written = await events(settings, hr_topic, expect=3)
    assert [e.data.employee_id for e in written] == ["emp-1", "emp-2", "emp-3"]


async def test_each_employees_records_are_written_in_the_batchs_order(
    settings: Settings, kafka_bootstrap: str, unique_name: str
) -> None:
    await ensure_topics(KafkaConnection(kafka_bootstrap), (TopicSpec(unique_name, partitions=3),))
    # Four employees, five versions each, interleaved.
    batch = [person(n % 4, title=f"version {n // 4}") for n in range(20)]
    async with running(settings, unique_name) as client:
        response = await client.post(BATCH, json=batch)

    assert statuses(response) == [202] * 20
    records = await read_topic(kafka_bootstrap, unique_name, expect=20, partitions=3)
    versions: dict[str, list[str | None]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for record in records:
        event = HrUserUpserted.from_json(record.value)
        versions[event.data.employee_id].append(event.data.title)
        partitions[event.data.employee_id].add(record.partition)
    assert dict(versions) == {f"emp-{n}": [f"version {v}" for v in range(5)] for n in range(4)}
    assert all(len(p) == 1 for p in partitions.values())


async def test_a_batch_is_refused_whole_when_too_big_or_not_a_batch(
    settings: Settings, hr_topic: str
) -> None:
    json_type = {"content-type": "application/json"}
    async with running(settings, hr_topic) as client:
        too_many = await client.post(BATCH, json=[person(n) for n in range(1001)])
        too_many_lines = await client.post(
            BATCH,
            content=b"\n".join(json.dumps(person(n)).encode() for n in range(1001)),
            headers={"content-type": "application/x-ndjson"},
        )
        too_large = await client.post(
            BATCH, content=b"[" + b" " * (8 * 1024 * 1024) + b"]", headers=json_type
        )
        not_json = await client.post(
            BATCH, content=b"a,b\n1,2", headers={"content-type": "text/csv"}
        )
        broken = await client.post(BATCH, content=b'[{"employee_id": ', headers=json_type)
        one_record = await client.post(BATCH, json=person(1))  # an object, not an array
        empty = await client.post(BATCH, content=b"[]", headers=json_type)
        no_lines = await client.post(
            BATCH, content=b"\n \n", headers={"content-type": "application/x-ndjson"}
        )
        long_id = await client.post(BATCH, json=[person(1)], headers={"webhook-id": "w" * 256})

    assert (too_many.status_code, too_many_lines.status_code) == (413, 413)
    assert too_many.json()["detail"] == "A batch holds at most 1,000 records"
    assert too_large.status_code == 413
    assert too_large.json()["detail"] == "Request body is larger than 8 MiB"
    assert not_json.status_code == 415
    reasons = [
        r.json()["detail"][0]["type"] for r in (broken, one_record, empty, no_lines, long_id)
    ]
    assert [r.status_code for r in (broken, one_record, empty, no_lines, long_id)] == [422] * 5
    assert reasons == ["json_invalid", "list_type", "too_short", "too_short", "string_length"]
    assert await read_topic(settings.kafka_bootstrap_servers, hr_topic, expect=0) == []


async def test_a_batch_needs_the_api_key(settings: Settings, hr_topic: str) -> None:
    async with running(variant(settings, api_key="batch-key"), hr_topic) as client:
        wrong = await client.post(BATCH, json=[person(1)], headers={"X-API-Key": "nope"})
        right = await client.post(BATCH, json=[person(2)], headers={"X-API-Key": "batch-key"})

    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "missing or wrong X-API-Key"
    assert statuses(right) == [202]
    assert [e.data.employee_id for e in await events(settings, hr_topic, expect=1)] == ["emp-2"]


async def test_the_signature_covers_the_whole_batch(settings: Settings, hr_topic: str) -> None:
    body = json.dumps([person(1), person(2)]).encode()
    tampered = body.replace(b"emp-2", b"emp-9")
    async with running(variant(settings, webhook_secret=SECRET), hr_topic) as client:
        good = await client.post(BATCH, content=body, headers=signed(body, "msg_batch_1"))
        bad = await client.post(BATCH, content=tampered, headers=signed(body, "msg_batch_2"))
        unsigned = await client.post(BATCH, content=body, headers={"webhook-id": "msg_batch_3"})

    assert statuses(good) == [202, 202]
    assert (bad.status_code, unsigned.status_code) == (401, 401)
    assert bad.json()["detail"] == "invalid webhook signature: no matching signature"
    written = await events(settings, hr_topic, expect=2)
    assert [e.data.employee_id for e in written] == ["emp-1", "emp-2"]


async def test_the_rate_limit_counts_records_and_takes_a_batch_whole_or_not_at_all(
    settings: Settings, hr_topic: str
) -> None:
    # A burst of 1,000 records (one full batch) that does not refill during the test.
    limited = variant(settings, api_key="noisy,quiet", rate_limit_per_s=0.001)
    noisy, quiet = {"X-API-Key": "noisy"}, {"X-API-Key": "quiet"}
    async with running(limited, hr_topic) as client:
        six_hundred = await client.post(BATCH, json=[person(n) for n in range(600)], headers=noisy)
        five_hundred = await client.post(BATCH, json=[person(n) for n in range(500)], headers=noisy)
        four_hundred = await client.post(BATCH, json=[person(n) for n in range(400)], headers=noisy)
        one_more = await client.post("/v1/hr/webhook", json=SEED, headers=noisy)
        other_sender = await client.post(BATCH, json=[person(1)], headers=quiet)

    assert six_hundred.status_code == 207
    assert five_hundred.status_code == 429  # 400 records left: none of the 500 taken
    assert int(five_hundred.headers["retry-after"]) >= 1
    assert four_hundred.status_code == 207
    assert one_more.status_code == 429
    assert other_sender.status_code == 207
    records = await read_topic(settings.kafka_bootstrap_servers, hr_topic, expect=1001)
    assert len(records) == 1001


class BrokerGoesAway:
    """The real sink, until `after` records were handed over; then every record fails as
    when the broker has gone (a failed delivery report), until `back()`."""

    def __init__(self, real: KafkaSink, *, after: int) -> None:
        self._real = real
        self._left = after
        self.away = False

    async def start(self) -> None:
        await self._real.start()

    async def stop(self) -> None:
        await self._real.stop()

    def enqueue(self, key: str, value: bytes, headers: Headers) -> asyncio.Future[None]:
        if self._left <= 0:
            failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            failed.set_exception(PublishError("Kafka did not acknowledge: _TRANSPORT"))
            return failed
        self._left -= 1
        return self._real.enqueue(key, value, headers)

    def back(self) -> None:
        self._left = 1_000_000

    async def healthy(self) -> bool:
        return await self._real.healthy()


async def test_records_kafka_did_not_take_are_503_and_a_resend_writes_only_those(
    settings: Settings, hr_topic: str
) -> None:
    kafka = KafkaConnection(settings.kafka_bootstrap_servers)
    sink = BrokerGoesAway(KafkaSink(EventProducer(kafka), hr_topic), after=3)
    batch = [person(n % 2, title=f"version {n // 2}") for n in range(6)]
    async with running(variant(settings, retry_after_s=7), hr_topic, sink=sink) as client:
        partly = await client.post(BATCH, json=batch, headers={"webhook-id": "batch-outage"})
        sink.back()
        resent = await client.post(BATCH, json=batch, headers={"webhook-id": "batch-outage"})

    assert partly.status_code == 207
    assert statuses(partly) == [202, 202, 202, 503, 503, 503]
    assert partly.headers["retry-after"] == "7"
    assert statuses(resent) == [202] * 6
    assert "retry-after" not in resent.headers
    assert accepted_ids(resent)[:3] == accepted_ids(partly)
    written = await events(settings, hr_topic, expect=6)
    assert [e.id for e in written] == accepted_ids(resent)  # each once, in the batch's order
    assert [(e.data.employee_id, e.data.title) for e in written] == [
        (record["employee_id"], record["title"]) for record in batch
    ]
