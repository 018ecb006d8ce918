"""`ConsumerLag` alone: the arithmetic of `onboarding_consumer_lag`, on a consumer fake at its
port (the three calls it makes: assignment, highwater, position). The runner on the real
broker: test_consumer_lag_runner.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError
from onboarding_runtime.metrics import ConsumerLag
from prometheus_client import REGISTRY

TOPIC = "lag-topic"
P0, P1, P2 = (TopicPartition(TOPIC, n) for n in range(3))


@dataclass
class Positions:
    """What aiokafka knows of its assigned partitions: high watermark and fetch position."""

    ends: dict[TopicPartition, int | None] = field(default_factory=dict)
    positions: dict[TopicPartition, int] = field(default_factory=dict)
    revoked_while_asked: set[TopicPartition] = field(default_factory=set)

    def assignment(self) -> set[TopicPartition]:
        return set(self.ends)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends[tp]

    async def position(self, tp: TopicPartition) -> int:
        if tp in self.revoked_while_asked:
            raise IllegalStateError(f"Partition {tp} is not assigned")
        return self.positions[tp]


@dataclass
class Tracker:
    position: int | None
    unfinished: int


def _lag(group: str, tp: TopicPartition) -> float | None:
    labels = {"group": group, "topic": tp.topic, "partition": str(tp.partition)}
    return REGISTRY.get_sample_value("onboarding_consumer_lag", labels)


async def test_lag_is_the_end_minus_the_position_per_partition() -> None:
    lag = ConsumerLag("g-arith")
    consumer = Positions(ends={P0: 10, P1: 7}, positions={P0: 4, P1: 7})

    await lag.update(consumer)

    assert (_lag("g-arith", P0), _lag("g-arith", P1)) == (6, 0)


async def test_records_fetched_but_unfinished_count_as_lag() -> None:
    lag = ConsumerLag("g-unfinished")
    consumer = Positions(ends={P0: 10, P1: 10}, positions={P0: 10, P1: 10})
    trackers = {P0: Tracker(position=3, unfinished=2), P1: Tracker(position=10, unfinished=0)}

    await lag.update(consumer, trackers)

    assert (_lag("g-unfinished", P0), _lag("g-unfinished", P1)) == (7, 0)


async def test_a_partition_not_fetched_yet_has_no_value() -> None:
    lag = ConsumerLag("g-unfetched")

    await lag.update(Positions(ends={P0: None}, positions={P0: 0}))

    assert _lag("g-unfetched", P0) is None


async def test_a_partition_that_went_to_another_member_loses_its_series() -> None:
    lag = ConsumerLag("g-revoked")
    await lag.update(Positions(ends={P0: 5, P1: 9}, positions={P0: 1, P1: 2}))

    await lag.update(Positions(ends={P1: 9}, positions={P1: 3}))

    assert (_lag("g-revoked", P0), _lag("g-revoked", P1)) == (None, 6)


async def test_a_partition_revoked_while_asked_is_left_for_the_next_poll() -> None:
    lag = ConsumerLag("g-racing")
    consumer = Positions(ends={P0: 5, P2: 8}, positions={P0: 5, P2: 1}, revoked_while_asked={P0})

    await lag.update(consumer)

    assert (_lag("g-racing", P0), _lag("g-racing", P2)) == (None, 7)
