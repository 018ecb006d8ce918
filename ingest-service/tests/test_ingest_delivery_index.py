"""The delivery index: what it remembers, for how long, and how much of it."""

from __future__ import annotations

from confluent_kafka import Message
from ingest_service.delivery_index import DeliveryIndex
from ingest_service.metrics import DEDUPE_EVICTED


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _record(headers: list[tuple[str, bytes]], timestamp_ms: int) -> Message:
    return Message(
        topic="hr",
        partition=0,
        offset=0,
        key=b"12345",
        value=b"{}",
        headers=headers,
        timestamp=(1, timestamp_ms),  # CreateTime
    )


def test_an_id_is_remembered_for_the_retention_and_then_forgotten() -> None:
    clock = Clock()
    index = DeliveryIndex(retention_s=60, max_entries=1000, clock=clock)
    index.add("a")

    clock.now += 59
    assert "a" in index
    clock.now += 2
    assert "a" not in index
    index.add("b")  # adding sweeps what expired
    assert len(index) == 1


def test_records_of_the_hr_topic_count_from_their_own_time_and_need_the_header() -> None:
    clock = Clock()
    index = DeliveryIndex(retention_s=60, max_entries=1000, clock=clock)
    now_ms = int(clock.now * 1000)

    index.apply(_record([("delivery-id", b"recent")], now_ms - 30_000))
    index.apply(_record([("delivery-id", b"too-old")], now_ms - 61_000))
    index.apply(_record([("traceparent", b"00-...")], now_ms))

    assert "recent" in index
    assert "too-old" not in index
    assert len(index) == 1
    clock.now += 31
    assert "recent" not in index  # 30 s old when read, so 31 s later it is past 60 s


def test_the_index_stays_bounded_forgetting_the_oldest_first() -> None:
    index = DeliveryIndex(retention_s=3600, max_entries=1000, clock=Clock())
    evicted_before = DEDUPE_EVICTED._value.get()

    for n in range(1500):
        index.add(f"d{n}")

    assert len(index) == 1000
    assert "d499" not in index
    assert "d500" in index
    assert "d1499" in index
    assert DEDUPE_EVICTED._value.get() - evicted_before == 500
