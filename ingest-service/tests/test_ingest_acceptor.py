"""Unit tests of the rate limiter and the acceptor, with fakes at their ports."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from ingest_service.acceptor import Acceptor, Headers, Unavailable, event_id_for
from ingest_service.delivery_index import DeliveryIndex
from ingest_service.ratelimit import RateLimiter
from ingest_support import SEED
from onboarding_events import HrUser, HrUserUpserted
from onboarding_runtime.kafka import PublishError

USER = HrUser.model_validate(SEED)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate_and_callers_are_separate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=clock)

    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(0.5)
    assert limiter.acquire("b") == 0.0
    clock.now = 0.5
    assert limiter.acquire("a") == 0.0
    assert RateLimiter.retry_after(0.01) == 1


def test_a_batch_takes_a_token_per_record_all_or_none() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=10.0, burst=1000, clock=clock)

    assert limiter.acquire("a", 600) == 0.0
    assert limiter.acquire("a", 500) == pytest.approx(10.0)  # 100 short, at 10 a second
    assert limiter.acquire("a", 400) == 0.0  # the refused 500 took nothing
    assert limiter.acquire("a") == pytest.approx(0.1)
    clock.now = 100.0
    assert limiter.acquire("a", 1000) == 0.0  # a full bucket holds a full batch


def test_the_table_of_callers_stays_bounded() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1, max_callers=100, clock=Clock())
    for n in range(1000):
        limiter.acquire(f"ip:{n}")

    assert len(limiter._buckets) == 100


class GatedKafka:
    """A fake at the `Enqueue` port: each event waits for the test to acknowledge or fail it."""

    def __init__(self) -> None:
        self.sent: list[HrUserUpserted] = []
        self.sent_headers: list[Headers] = []
        self.acks: list[asyncio.Future[None]] = []
        self._sent_one = asyncio.Event()

    def enqueue(self, key: str, value: bytes, headers: Headers) -> asyncio.Future[None]:
        self.sent.append(HrUserUpserted.from_json(value))
        self.sent_headers.append(headers)
        self.acks.append(asyncio.get_running_loop().create_future())
        self._sent_one.set()
        return self.acks[-1]

    async def until_sent(self, count: int) -> None:
        while len(self.sent) < count:
            self._sent_one.clear()
            await self._sent_one.wait()


def ready_index() -> DeliveryIndex:
    index = DeliveryIndex(retention_s=3600, max_entries=1000)
    index.ready = True
    return index


async def test_a_retry_after_503_joins_the_write_in_flight_instead_of_writing_twice() -> None:
    kafka = GatedKafka()
    acceptor = Acceptor(kafka.enqueue, ready_index(), wait_s=0.05)

    with pytest.raises(Unavailable):
        await acceptor.accept(USER, "d1", [])
    with pytest.raises(Unavailable):
        await acceptor.accept(USER, "d1", [])
    kafka.acks[0].set_result(None)
    joined = await acceptor.accept(USER, "d1", [])
    await asyncio.sleep(0)  # the acknowledgement reaches the index
    later = await acceptor.accept(USER, "d1", [])

    assert len(kafka.sent) == 1
    assert joined.event_id == later.event_id == kafka.sent[0].id == event_id_for("d1")
    assert joined.duplicate
    assert later.duplicate
    assert ("delivery-id", b"d1") in kafka.sent_headers[0]


async def test_a_write_that_failed_is_tried_again_under_the_same_event_id() -> None:
    kafka = GatedKafka()
    acceptor = Acceptor(kafka.enqueue, ready_index(), wait_s=0.05)

    with pytest.raises(Unavailable):
        await acceptor.accept(USER, "d2", [])
    kafka.acks[0].set_exception(PublishError("Kafka did not acknowledge: KafkaTimeoutError"))
    await asyncio.sleep(0)
    retry = asyncio.create_task(acceptor.accept(USER, "d2", []))
    await kafka.until_sent(2)
    kafka.acks[1].set_result(None)
    outcome = await retry

    assert [event.id for event in kafka.sent] == [event_id_for("d2")] * 2
    assert not outcome.duplicate


async def test_an_accepted_delivery_is_answered_from_the_index_without_writing() -> None:
    kafka, index = GatedKafka(), ready_index()
    index.add("seen-before")
    acceptor = Acceptor(kafka.enqueue, index, wait_s=0.05)

    outcome = await acceptor.accept(USER, "seen-before", [])

    assert outcome.duplicate
    assert outcome.event_id == event_id_for("seen-before")
    assert kafka.sent == []


async def test_until_the_index_is_loaded_only_deliveries_without_an_id_are_accepted() -> None:
    kafka = GatedKafka()
    acceptor = Acceptor(kafka.enqueue, DeliveryIndex(retention_s=3600, max_entries=1000), wait_s=1)

    with pytest.raises(Unavailable, match="still reading"):
        await acceptor.accept(USER, "d3", [])
    anonymous = asyncio.create_task(acceptor.accept(USER, None, []))
    await kafka.until_sent(1)
    kafka.acks[0].set_result(None)

    assert not (await anonymous).duplicate
    assert len(kafka.sent) == 1


@pytest.mark.parametrize(
    "delivery_id", ["msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "k1", "ünïcode", "x" * 255]
)
def test_event_ids_are_the_uuid5_of_the_delivery_id(delivery_id: str) -> None:
    expected = uuid.uuid5(uuid.UUID("4c4cf3b1-3a7e-4b0e-9a53-9a4a6c1f6f0e"), delivery_id)
    assert event_id_for(delivery_id) == str(expected)


def users(count: int) -> list[HrUser]:
    return [USER.model_copy(update={"employee_id": f"e{n}"}) for n in range(count)]


async def test_a_batch_waits_once_and_records_not_acknowledged_in_time_have_no_outcome() -> None:
    kafka = GatedKafka()
    acceptor = Acceptor(kafka.enqueue, ready_index(), wait_s=0.2)

    batch = asyncio.create_task(
        acceptor.accept_all([(u, f"b#{n}") for n, u in enumerate(users(3))], [])
    )
    await kafka.until_sent(3)
    kafka.acks[0].set_result(None)
    kafka.acks[2].set_exception(PublishError("Kafka did not acknowledge: _MSG_TIMED_OUT"))
    outcomes = await batch  # record 1 is never acknowledged: the wait ends at `wait_s`

    assert [o and o.event_id for o in outcomes] == [event_id_for("b#0"), None, None]
    assert [e.data.employee_id for e in kafka.sent] == ["e0", "e1", "e2"]  # in order


class RefusesAfter(GatedKafka):
    """The producer takes `take` records, then refuses (its queue is full), then takes again."""

    def __init__(self, take: int) -> None:
        super().__init__()
        self._take = take
        self.refused = 0

    def enqueue(self, key: str, value: bytes, headers: Headers) -> asyncio.Future[None]:
        if len(self.sent) == self._take and not self.refused:
            self.refused += 1
            raise PublishError("Kafka is not keeping up: the send queue is full")
        acknowledged = super().enqueue(key, value, headers)
        acknowledged.set_result(None)
        return acknowledged


async def test_after_a_record_the_producer_refuses_no_later_one_is_handed_over() -> None:
    kafka = RefusesAfter(take=2)
    acceptor = Acceptor(kafka.enqueue, ready_index(), wait_s=1)

    outcomes = await acceptor.accept_all([(u, None) for u in users(5)], [])

    assert [o is not None for o in outcomes] == [True, True, False, False, False]
    assert [e.data.employee_id for e in kafka.sent] == ["e0", "e1"]  # nothing after e2


async def test_a_batch_with_a_delivery_id_waits_for_the_index_and_hands_over_nothing() -> None:
    kafka = GatedKafka()
    loading = DeliveryIndex(retention_s=3600, max_entries=1000)
    acceptor = Acceptor(kafka.enqueue, loading, wait_s=1)

    with pytest.raises(Unavailable, match="still reading"):
        await acceptor.accept_all([(u, f"b#{n}") for n, u in enumerate(users(2))], [])
    assert kafka.sent == []
