"""A record not due yet waits in Kafka, not in memory: its partition pauses at it, the records
before it are handled and committed, other partitions go on, and it is handled once due."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer, TopicPartition
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_runtime.kafka import Record
from onboarding_runtime.kafka.delays import due_at, due_header
from runtime_kafka_support import committed, make_topic, runner_for, running

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


async def _send(bootstrap: str, topic: str, records: list[tuple[str, int, float | None]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, partition, when in records:
            headers = [due_header(when)] if when is not None else []
            await producer.send_and_wait(
                topic, key.encode(), key=key.encode(), partition=partition, headers=headers
            )
    finally:
        await producer.stop()


async def _committed_is(
    bootstrap: str, group: str, topic: str, partition: int, offset: int
) -> bool:
    return await committed(bootstrap, group, topic, partition) == offset


async def test_a_record_not_due_holds_its_partition_in_kafka_until_it_is(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name, partitions=2)
    clock = Clock()
    await _send(
        kafka_bootstrap,
        topic,
        [
            ("due-before", 0, T0 - 1),
            ("waits", 0, T0 + 60),
            ("after-it", 0, T0 + 61),
            ("other-partition", 1, None),
        ],
    )
    handled: list[str] = []

    async def handle(record: Record) -> None:
        handled.append(record.value.decode() if record.value else "")

    runner = runner_for(
        kafka_bootstrap, topic, unique_name, handler=handle, due=due_at, clock=clock
    )
    async with running(runner):
        await eventually(lambda: sorted(handled) == ["due-before", "other-partition"])
        await eventually(lambda: TopicPartition(topic, 0) in runner.held)
        # Committed up to the waiting record, which stays in Kafka (not in memory).
        await eventually(lambda: _committed_is(kafka_bootstrap, unique_name, topic, 0, 1))
        assert runner.held[TopicPartition(topic, 0)] == T0 + 60

        clock.now = T0 + 60
        await eventually(lambda: handled[2:] == ["waits"])
        assert TopicPartition(topic, 0) in runner.held  # now at the next one, a second later
        clock.now = T0 + 61
        await eventually(lambda: handled[2:] == ["waits", "after-it"])
        await eventually(lambda: _committed_is(kafka_bootstrap, unique_name, topic, 0, 3))

    assert runner.held == {}


async def test_a_waiting_record_outlives_a_restart_and_is_handled_once(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    clock = Clock()
    await _send(kafka_bootstrap, topic, [("done", 0, None), ("waits", 0, T0 + 3600)])
    handled: list[str] = []

    async def handle(record: Record) -> None:
        handled.append(record.value.decode() if record.value else "")

    first = runner_for(kafka_bootstrap, topic, unique_name, handler=handle, due=due_at, clock=clock)
    async with running(first):
        await eventually(lambda: _committed_is(kafka_bootstrap, unique_name, topic, 0, 1))
        await eventually(lambda: bool(first.held))
    clock.now = T0 + 3600
    second = runner_for(
        kafka_bootstrap, topic, unique_name, handler=handle, due=due_at, clock=clock
    )
    async with running(second):
        await eventually(lambda: _committed_is(kafka_bootstrap, unique_name, topic, 0, 2))

    assert handled == ["done", "waits"]


def test_an_unreadable_due_time_is_now_not_never() -> None:
    class Bare:
        def __init__(self, headers: list[tuple[str, bytes]]) -> None:
            self.headers = headers

    assert due_at(Bare([("onboarding-due-at", b"soon")])) is None  # type: ignore[arg-type]
    assert due_at(Bare([due_header(T0 + 0.5)])) == T0 + 0.5  # type: ignore[arg-type]
    assert due_at(Bare([])) is None  # type: ignore[arg-type]


async def test_a_due_time_no_one_could_mean_does_not_hold_or_stop_the_consumer(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = await make_topic(kafka_bootstrap, unique_name)
    clock = Clock()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for key, due in (("huge", b"9" * 400), ("centuries", b"99999999999999999"), ("ok", b"1")):
            headers = [("onboarding-due-at", due)]
            await producer.send_and_wait(topic, key.encode(), key=key.encode(), headers=headers)
    finally:
        await producer.stop()
    handled: list[str] = []

    async def handle(record: Record) -> None:
        handled.append(record.value.decode() if record.value else "")

    runner = runner_for(
        kafka_bootstrap, topic, unique_name, handler=handle, due=due_at, clock=clock
    )
    async with running(runner):
        await eventually(lambda: handled == ["huge", "centuries", "ok"])
    assert runner.held == {}
