"""The view pointer trusts an answer for `ttl_s` from when it was asked for: a slow read
answering the old name does not keep a writer on the old collection past that time."""

from __future__ import annotations

from typing import Any, cast

from onboarding_runtime.view.pointer import ActiveCollection
from pymongo.asynchronous.database import AsyncDatabase


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _SlowMeta:
    """`view_meta` whose reads take `delay_s` of the clock's time to answer."""

    def __init__(self, clock: _Clock, delay_s: float) -> None:
        self.clock = clock
        self.delay_s = delay_s
        self.collection = "users_old"
        self.reads = 0

    async def find_one(self, _filter: dict[str, Any]) -> dict[str, Any]:
        answer = {"_id": "users", "collection": self.collection}  # as of the question
        self.reads += 1
        self.clock.now += self.delay_s
        return answer

    def __getitem__(self, _name: str) -> _SlowMeta:
        return self


async def test_an_answer_that_came_late_is_trusted_only_ttl_after_it_was_asked_for() -> None:
    clock = _Clock()
    meta = _SlowMeta(clock, delay_s=5.0)  # a busy database: five seconds per read
    pointer = ActiveCollection(cast(AsyncDatabase[Any], meta), ttl_s=2.0, clock=clock)

    first = await pointer.name()  # asked at 100, answered at 105
    meta.collection = "users_new"  # a rebuild flips the pointer meanwhile
    meta.delay_s = 0.0
    clock.now = 102.5  # past ttl_s since the question, not since the answer

    assert first == "users_old"
    assert await pointer.name() == "users_new"
    assert meta.reads == 2


async def test_within_ttl_of_the_question_the_name_is_not_read_again() -> None:
    clock = _Clock()
    meta = _SlowMeta(clock, delay_s=0.5)
    pointer = ActiveCollection(cast(AsyncDatabase[Any], meta), ttl_s=2.0, clock=clock)

    await pointer.name()
    clock.now = 101.5
    await pointer.name()

    assert meta.reads == 1
