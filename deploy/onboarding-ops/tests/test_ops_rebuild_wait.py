"""`rebuild-view`'s wait for the query projector, on fakes: when it waits, and for how long."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import GroupCoordinatorNotAvailableError, KafkaError
from onboarding_ops.bootstrap import Ops
from onboarding_ops.progress import NoProgress
from onboarding_ops.rebuild import PROJECTOR_POLL_S, ProjectorBehind, until_projector_passed
from onboarding_ops.scan import GroupProgress
from onboarding_ops.settings import Settings
from opskit import TEST_PII_KEY

TOPIC = "users.enriched.v1"
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
ENDS = {P0: 10, P1: 4}
BOTH = frozenset({P0, P1})


class FakeClock:
    """Time that passes only while the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeGroup:
    """Answers each poll with the next of `answers` (the last one for good)."""

    def __init__(self, *answers: GroupProgress | KafkaError) -> None:
        self._answers: Sequence[GroupProgress | KafkaError] = answers
        self.polls = 0
        self.asked: list[tuple[str, set[TopicPartition]]] = []

    async def group_progress(
        self, group_id: str, partitions: Collection[TopicPartition]
    ) -> GroupProgress:
        self.asked.append((group_id, set(partitions)))
        answer = self._answers[min(self.polls, len(self._answers) - 1)]
        self.polls += 1
        if isinstance(answer, KafkaError):
            raise answer
        return answer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ops(clock: FakeClock) -> Ops:
    settings = Settings(
        pii_hash_key=TEST_PII_KEY,
        environment="test",
        query_group_id="query-test",
        rebuild_projector_wait_s=3.0,
    )
    return Ops(settings, sleep=clock.sleep, clock=clock)


async def _wait(ops: Ops, group: FakeGroup) -> None:
    await until_projector_passed(ops, group, TOPIC, ENDS, NoProgress())


def test_only_partitions_a_live_member_holds_can_be_behind() -> None:
    committed = {P0: 3}
    assert GroupProgress(committed, held=frozenset()).behind(ENDS) == {}
    assert GroupProgress({}, held=frozenset()).behind(ENDS) == {}  # never ran
    assert GroupProgress(committed, held=frozenset({P1})).behind(ENDS) == {P1: 0}
    assert GroupProgress(committed, held=BOTH).behind(ENDS) == {P0: 3, P1: 0}
    # A rebalance hides who holds what: every partition may be held.
    assert GroupProgress(committed, held=None).behind(ENDS) == {P0: 3, P1: 0}
    # At or past the end is done, even past it (committed after the ends were read).
    assert GroupProgress({P0: 10, P1: 9}, held=BOTH).behind(ENDS) == {}


async def test_a_group_without_live_members_is_not_waited_for(ops: Ops, clock: FakeClock) -> None:
    group = FakeGroup(GroupProgress({P0: 1}, held=frozenset()))

    await _wait(ops, group)

    assert clock.sleeps == []
    assert group.asked == [("query-test", set(ENDS))]


async def test_it_polls_until_the_group_has_committed_up_to_the_ends(
    ops: Ops, clock: FakeClock
) -> None:
    group = FakeGroup(
        GroupProgress({P0: 2, P1: 4}, held=BOTH),
        GroupProgress({P0: 7, P1: 4}, held=None),
        GroupProgress({P0: 10, P1: 4}, held=BOTH),
    )

    await _wait(ops, group)

    assert clock.sleeps == [PROJECTOR_POLL_S, PROJECTOR_POLL_S]
    assert group.polls == 3


async def test_a_failed_read_of_the_offsets_is_asked_again(ops: Ops, clock: FakeClock) -> None:
    group = FakeGroup(
        GroupCoordinatorNotAvailableError(), GroupProgress({P0: 10}, held=frozenset({P0}))
    )

    await _wait(ops, group)

    assert clock.sleeps == [PROJECTOR_POLL_S]


async def test_past_the_allowed_time_it_gives_up_naming_the_partitions_behind(
    ops: Ops, clock: FakeClock
) -> None:
    group = FakeGroup(GroupProgress({P0: 10, P1: 1}, held=BOTH))

    with pytest.raises(ProjectorBehind) as failure:
        await _wait(ops, group)

    message = str(failure.value)
    assert "consumer group query-test" in message
    assert f"end of {TOPIC} after 3s: partition 1 at 1 of 4" in message
    assert "partition 0" not in message
    assert sum(clock.sleeps) == pytest.approx(3.0)  # polled the whole time, then gave up
    assert set(clock.sleeps) == {PROJECTOR_POLL_S}


async def test_offsets_unreadable_until_the_deadline_give_up_too(
    ops: Ops, clock: FakeClock
) -> None:
    group = FakeGroup(GroupCoordinatorNotAvailableError())

    with pytest.raises(ProjectorBehind, match=r"could not be read \(GroupCoordinator"):
        await _wait(ops, group)

    assert clock.now >= 3.0
