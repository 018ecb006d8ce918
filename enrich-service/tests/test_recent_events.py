"""The duplicate rule: an HR event handled for good is not enriched again, unless an operator
sends it again on purpose. Okta and publish faked at the handler's ports."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from enrich_service.handlers import on_hr_user_upserted
from enrich_service.recent_events import RecentEvents, remembering, sent_again
from handler_fakes import FakeOkta, HrRecord, Published, hr_upserted
from onboarding_events import (
    REDRIVE_HEADER,
    REPLAY_HEADER,
    HrUserUpserted,
    UserEnriched,
    kafka_headers,
)
from onboarding_runtime.kafka import BrokerUnavailable, Failure, Record, RetryableError
from onboarding_runtime.pii import Pseudonymizer
from prometheus_client import REGISTRY


def _skipped() -> float:
    return REGISTRY.get_sample_value("onboarding_enrich_duplicates_skipped_total") or 0.0


def _recent(capacity: int = 100) -> RecentEvents:
    return RecentEvents(capacity, Pseudonymizer(b"test-key"))


async def _handle(
    event: HrUserUpserted,
    recent: RecentEvents,
    okta: FakeOkta,
    published: Published,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    await on_hr_user_upserted(
        event,
        okta=okta,
        publish=published,
        hr_offset=0,
        recent=recent,
        sent_again=sent_again(headers or kafka_headers()),
    )


async def test_a_second_record_of_a_handled_event_is_skipped_and_logged_without_pii(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recent, okta, published = _recent(), FakeOkta(), Published()
    event = hr_upserted()
    # The second record of a race: same id, its own (here earlier) time.
    copy = event.model_copy(update={"time": event.time - timedelta(seconds=1)})
    before = _skipped()

    await _handle(event, recent, okta, published)
    with caplog.at_level(logging.INFO, logger="enrich_service.recent_events"):
        await _handle(copy, recent, okta, published)

    assert len(published.events) == 1
    assert okta.calls == ["search:jane.doe@example.com"]  # Okta not asked for the copy
    assert _skipped() == before + 1
    [line] = caplog.records
    assert line.event_id == event.id
    assert line.employee == Pseudonymizer(b"test-key")("12345")
    assert "12345" not in caplog.text
    assert "jane.doe" not in caplog.text


@pytest.mark.parametrize("marker", [REPLAY_HEADER, REDRIVE_HEADER])
async def test_a_copy_sent_again_by_an_operator_is_enriched_again(marker: str) -> None:
    recent, okta, published = _recent(), FakeOkta(), Published()
    event = hr_upserted()

    await _handle(event, recent, okta, published)
    await _handle(event, recent, okta, published, headers=kafka_headers({marker: "1"}))
    await _handle(event, recent, okta, published)  # an unmarked copy after it: skipped

    assert [e.hreventid for e in published.events] == [event.id, event.id]


async def test_an_event_that_failed_is_not_handled_yet_so_its_retry_enriches() -> None:
    recent, okta, published = _recent(), FakeOkta(groups_fail=True), Published()
    event = hr_upserted()

    with pytest.raises(RetryableError):
        await _handle(event, recent, okta, published)
    okta.groups_fail = False
    await _handle(event, recent, okta, published)  # the runner's retry of the same record

    assert len(published.events) == 1


async def test_a_dead_lettered_event_counts_as_handled() -> None:
    recent, okta, published = _recent(), FakeOkta(), Published()
    event = hr_upserted()
    letters: list[Record] = []

    async def dead_letter(record: Record, failure: Failure) -> None:
        letters.append(record)

    send = remembering(dead_letter, recent)
    now = datetime.now(UTC)
    failure = Failure("okta_user_not_found", "no user", 20, now, now)
    await send(HrRecord(event.to_json()), failure)
    await send(HrRecord(b"not an event"), failure)  # nothing to remember, still dead-lettered
    await _handle(event, recent, okta, published)

    assert len(letters) == 2
    assert published.events == []
    assert okta.calls == []


async def test_the_same_id_for_another_employee_is_not_a_duplicate() -> None:
    recent, okta, published = _recent(), FakeOkta(), Published()
    event = hr_upserted("12345")
    other = hr_upserted("67890").model_copy(update={"id": event.id})

    await _handle(event, recent, okta, published)
    await _handle(other, recent, okta, published)

    assert [e.subject for e in published.events] == ["12345", "67890"]


async def test_the_window_forgets_the_least_recently_seen_event() -> None:
    recent, okta, published = _recent(capacity=2), FakeOkta(), Published()
    a, b, c = hr_upserted("a"), hr_upserted("b"), hr_upserted("c")

    for event in (a, b, a, c):  # the copy of `a` is skipped and makes it recent again
        await _handle(event, recent, okta, published)
    for event in (a, c, b):  # `b` was forgotten when `c` came
        await _handle(event, recent, okta, published)

    assert [e.subject for e in published.events] == ["a", "b", "c", "b"]
    assert len(recent) == 2


async def test_a_window_of_zero_remembers_nothing() -> None:
    recent, okta, published = _recent(capacity=0), FakeOkta(), Published()
    event = hr_upserted()

    await _handle(event, recent, okta, published)
    await _handle(event, recent, okta, published)

    assert len(published.events) == 2


async def test_events_learned_from_before_a_takeover_are_skipped_unless_sent_again() -> None:
    recent = _recent()
    okta, published = FakeOkta(), Published()
    earlier = hr_upserted("e1")

    learned = recent.learn([earlier.to_json(), b"not json", None])
    await _handle(earlier, recent, okta, published)
    await _handle(earlier, recent, okta, published, kafka_headers({REPLAY_HEADER: "ops"}))

    assert learned == 1
    assert len(published.events) == 1  # only the replayed copy


class _Topic:
    """The enriched topic as the handler sees it: a publish that times out yet lands, and
    what the follower has read of it (`sync` reads everything written)."""

    def __init__(self) -> None:
        self.written: list[UserEnriched] = []
        self.read = 0
        self.fail_next = True

    async def publish(self, event: UserEnriched) -> None:
        self.written.append(event)
        if self.fail_next:
            self.fail_next = False
            raise BrokerUnavailable()  # the acknowledgement did not come in time

    def is_newer(self, employee_id: str, version: str) -> bool:
        return True

    def has_event(self, employee_id: str, event_id: str) -> bool:
        return any(e.hreventid == event_id for e in self.written[: self.read])

    def record(self, employee_id: str, version: str, event_id: str | None = None) -> None:
        return None

    async def sync(self) -> bool:
        self.read = len(self.written)
        return True


async def test_a_copy_after_a_publish_that_timed_out_but_landed_is_not_enriched_again() -> None:
    recent, okta, topic = _recent(), FakeOkta(), _Topic()
    event = hr_upserted("e1")
    copy = event.model_copy(update={"time": event.time + timedelta(seconds=1)})

    with pytest.raises(BrokerUnavailable):  # the runner then lets the copy supersede it
        await on_hr_user_upserted(
            event, okta=okta, publish=topic.publish, hr_offset=1, published=topic, recent=recent
        )
    await on_hr_user_upserted(
        copy, okta=okta, publish=topic.publish, hr_offset=2, published=topic, recent=recent
    )

    assert [e.hreventid for e in topic.written] == [event.id]


async def test_a_second_record_stamped_later_is_published_with_the_first_records_time() -> None:
    """The first record failed and gave way to its second (same event, stamped later by
    another ingest replica): what is published carries the event's first time, so it does
    not pass for newer than the employee's next version."""
    recent, published = _recent(), Published()
    event = hr_upserted("e1")
    copy = event.model_copy(update={"time": event.time + timedelta(milliseconds=30)})

    with pytest.raises(RetryableError):
        await _handle(event, recent, FakeOkta(groups_fail=True), published)
    await _handle(copy, recent, FakeOkta(), published)

    assert [e.time for e in published.events] == [event.time]
