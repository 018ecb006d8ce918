"""The producer against the real broker: where records go, and that every one is answered."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from onboarding_devstack.processes import free_port
from onboarding_runtime.kafka import EventProducer, KafkaConnection, PublishError
from runtime_kafka_support import make_topic


async def test_a_key_goes_to_the_partition_the_java_client_gives_it(kafka_bootstrap: str) -> None:
    topic = await make_topic(kafka_bootstrap, "producer-partitions", partitions=6)
    producer = EventProducer(KafkaConnection(kafka_bootstrap))
    await producer.start()
    keys = ["12345", "employee-é", *(f"e{n}" for n in range(60))]
    try:
        written = [await producer.publish(topic, key=key, value=key.encode()) for key in keys]
    finally:
        await producer.stop()

    every = list(range(6))
    for key, where in zip(keys, written, strict=True):
        # aiokafka's default partitioner is the Java client's murmur2
        assert where.partition == DefaultPartitioner()(key.encode(), every, every)
    assert len({where.partition for where in written}) == 6

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        first = written[0]
        tp = TopicPartition(topic, first.partition)
        consumer.assign([tp])
        consumer.seek(tp, first.offset)
        record = await asyncio.wait_for(consumer.getone(), timeout=10)
    finally:
        await consumer.stop()
    assert (record.key, record.value, record.timestamp) == (b"12345", b"12345", first.timestamp)


async def test_headers_travel_with_the_record(kafka_bootstrap: str) -> None:
    topic = await make_topic(kafka_bootstrap, "producer-headers")
    producer = EventProducer(KafkaConnection(kafka_bootstrap))
    await producer.start()
    try:
        acknowledged = producer.enqueue(
            topic, key="k", value=b"v", headers=[("traceparent", b"00-abc"), ("n", b"1")]
        )
        await asyncio.wait_for(acknowledged, timeout=10)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=10)
    finally:
        await consumer.stop()
    assert list(record.headers) == [("traceparent", b"00-abc"), ("n", b"1")]


async def test_without_a_broker_the_acknowledgement_fails_within_the_timeout() -> None:
    producer = EventProducer(KafkaConnection(f"127.0.0.1:{free_port()}"), timeout_s=1.0)
    await producer.start()
    try:
        started = time.monotonic()
        acknowledged = producer.enqueue("anything", key="k", value=b"v")
        with pytest.raises(PublishError):
            await asyncio.wait_for(acknowledged, timeout=10)
        with pytest.raises(PublishError):
            await asyncio.wait_for(producer.publish("anything", key="k", value=b"v"), 10)
        assert time.monotonic() - started < 5
        assert not await producer.healthy()
    finally:
        await producer.stop(wait_s=0)


async def test_stopping_fails_what_was_not_delivered_instead_of_dropping_it() -> None:
    producer = EventProducer(KafkaConnection(f"127.0.0.1:{free_port()}"), timeout_s=60.0)
    await producer.start()
    acknowledged = producer.enqueue("anything", key="k", value=b"v")

    await producer.stop(wait_s=0.2)

    assert acknowledged.done()
    with pytest.raises(PublishError):
        acknowledged.result()
