"""Records keep the partition every Kafka client gives their key (per-employee order)."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner
from onboarding_runtime.kafka.producer import _key_hash, key_partition


@pytest.mark.parametrize("partitions", [1, 6, 7])
def test_a_key_goes_where_the_default_partitioner_sends_it(partitions: int) -> None:
    every = list(range(partitions))
    for key in [
        b"12345",
        b"e0",
        b"employee-\xc3\xa9",
        b"x" * 200,
        *(b"e%d" % n for n in range(500)),
    ]:
        assert key_partition(key, every, every) == DefaultPartitioner()(key, every, every)


def test_a_key_is_hashed_once() -> None:
    key = b"hashed-once-\x00"
    key_partition(key, [0, 1, 2], [0, 1, 2])
    hits = _key_hash.cache_info().hits

    assert key_partition(key, [0, 1, 2], [0, 1, 2]) == key_partition(key, [0, 1, 2], [0, 1, 2])
    assert _key_hash.cache_info().hits == hits + 2
