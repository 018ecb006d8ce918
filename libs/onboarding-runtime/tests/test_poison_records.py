"""Whatever a record holds, the read model's decoders yield a change or skip it: one bad
record never stalls the projector. Skips are counted and logged by place, never content."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from onboarding_events import (
    HR_USER_UPSERTED,
    HR_USERS_DLQ_TOPIC,
    HR_USERS_TOPIC,
    USER_ENRICHED,
    USERS_ENRICHED_TOPIC,
    EnrichedUser,
    HrUser,
    HrUserUpserted,
    UserEnriched,
)
from onboarding_runtime.erasures import Erasures
from onboarding_runtime.kafka import RecordCopy
from onboarding_runtime.kafka.lanes import Lane, Record
from onboarding_runtime.pii import Pseudonymizer
from onboarding_runtime.view import Put, version_of
from onboarding_runtime.view.records import (
    Decoder,
    accepted_change,
    enriched_change,
    failed_change,
    slice_of,
)
from prometheus_client import REGISTRY

SECRET = "secret.person@example.com"  # stands for the PII a record may hold
TIME = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
DEEP = b"[" * 50_000
NESTED_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000


def fake_record(
    topic: str,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]] = (),
) -> RecordCopy:
    return RecordCopy(topic, 3, offset, 1_767_225_600_000, key, value, headers)


def skipped(topic: str, reason: str | None = None) -> float:
    """What the skip counter holds for the read model's decoders on `topic`."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "onboarding_records_skipped"
        for sample in metric.samples
        if sample.name.endswith("_total")
        and sample.labels["consumer"] == "view"
        and sample.labels["topic"] == topic
        and (reason is None or sample.labels["reason"] == reason)
    )


def enriched_json(employee_id: str, **extensions: Any) -> bytes:
    event = UserEnriched(
        source="urn:test",
        type=USER_ENRICHED,
        subject=employee_id,
        time=TIME,
        data=EnrichedUser(
            id=employee_id,
            name="Jane Doe",
            email=SECRET,
            title="Engineer",
            department=None,
            startDate=None,
            groups=["Everyone"],
            applications=["Slack"],
            onboarded=True,
        ),
        **{"hreventid": f"hr-{employee_id}", "hroffset": "41", **extensions},
    )
    return event.to_json()


def hr_json(employee_id: str) -> bytes:
    return HrUserUpserted(
        id=f"hr-{employee_id}",
        source="urn:test",
        type=HR_USER_UPSERTED,
        subject=employee_id,
        time=TIME,
        data=HrUser(employee_id=employee_id, first_name="Jane", last_name="Doe", email=SECRET),
    ).to_json()


def with_field(raw: bytes, **fields: Any) -> bytes:
    envelope = json.loads(raw)
    envelope.update(fields)
    return json.dumps(envelope).encode()


Good = Callable[[int, bytes], RecordCopy]  # a good record of a topic at an offset and key

DLQ_HEADERS: dict[str, bytes] = {
    "content-type": b"application/cloudevents+json",
    "dlq-error-code": b"okta_user_not_found",
    "dlq-error-message": b"no Okta user",
    "dlq-attempts": b"5",
    "dlq-first-failure": b"2026-03-01T09:30:05+00:00",
    "dlq-last-failure": b"2026-03-01T09:31:05+00:00",
    "dlq-source": b"hr.users.v1/3/41",
}


def dlq_headers(**changed: bytes) -> list[tuple[str, bytes]]:
    return list({**DLQ_HEADERS, **{k.replace("_", "-"): v for k, v in changed.items()}}.items())


def around(good: Good, bad: RecordCopy) -> list[RecordCopy]:
    """A good record, the bad one, and another good one, in offset order."""
    return [good(10, b"before"), bad, good(12, b"after")]


def decode_around(decoder: Decoder, topic: str, good: Good, bad: RecordCopy) -> list[str]:
    records = around(good, bad)
    part = slice_of(records, decoder)
    assert (part.partition, part.first_offset, part.next_offset) == ((topic, 3), 10, 13)
    return [change.employee_id for change in part.changes]


def good_enriched(offset: int, key: bytes) -> RecordCopy:
    return fake_record(USERS_ENRICHED_TOPIC, offset, key, enriched_json(key.decode()))


def good_hr(offset: int, key: bytes) -> RecordCopy:
    return fake_record(HR_USERS_TOPIC, offset, key, hr_json(key.decode()))


def good_dead_letter(offset: int, key: bytes) -> RecordCopy:
    return fake_record(HR_USERS_DLQ_TOPIC, offset, key, hr_json(key.decode()), dlq_headers())


ENRICHED_POISON = {
    "not JSON": (b'{"email": "' + SECRET.encode() + b'", ', "invalid_event"),
    "nested 50,000 deep": (DEEP, "invalid_event"),
    "an object nested 50,000 deep": (NESTED_OBJECT, "invalid_event"),
    "JSON, not an object": (b"[1, 2, 3]", "invalid_event"),
    "hroffset not a number": (enriched_json("bad", hroffset="abc"), "bad_field"),
    "hroffset an object": (enriched_json("bad", hroffset={}), "bad_field"),
    "hroffset a boolean": (enriched_json("bad", hroffset=True), "bad_field"),
    "hreventid an object": (enriched_json("bad", hreventid={"id": SECRET}), "bad_field"),
    "time out of range": (
        with_field(enriched_json("bad"), time="0001-01-01T00:00:00+01:00"),
        "undecodable",
    ),
}


@pytest.mark.parametrize(("value", "reason"), ENRICHED_POISON.values(), ids=ENRICHED_POISON)
def test_a_bad_enriched_record_is_skipped_and_its_neighbours_kept(
    value: bytes, reason: str
) -> None:
    before = skipped(USERS_ENRICHED_TOPIC, reason)
    bad = fake_record(USERS_ENRICHED_TOPIC, 11, b"bad", value)

    kept = decode_around(enriched_change, USERS_ENRICHED_TOPIC, good_enriched, bad)

    assert kept == ["before", "after"]
    assert skipped(USERS_ENRICHED_TOPIC, reason) == before + 1


HR_POISON = {
    "not JSON": (b'{"email": "' + SECRET.encode() + b'", ', "invalid_json"),
    "not UTF-8": (b'{"id": "\xff\xfe"}', "invalid_json"),
    "nested 50,000 deep": (DEEP, "too_deep"),
    "an object nested 50,000 deep": (NESTED_OBJECT, "too_deep"),
    "JSON, not an object": (b'"' + SECRET.encode() + b'"', "not_an_event"),
    "id an object": (with_field(hr_json("bad"), id={"x": SECRET}), "bad_field"),
    "time out of range": (
        with_field(hr_json("bad"), time="0001-01-01T00:00:00+01:00"),
        "undecodable",
    ),
}


@pytest.mark.parametrize(("value", "reason"), HR_POISON.values(), ids=HR_POISON)
def test_a_bad_hr_record_is_skipped_and_its_neighbours_kept(value: bytes, reason: str) -> None:
    before = skipped(HR_USERS_TOPIC, reason)
    bad = fake_record(HR_USERS_TOPIC, 11, b"bad", value)

    kept = decode_around(accepted_change, HR_USERS_TOPIC, good_hr, bad)

    assert kept == ["before", "after"]
    assert skipped(HR_USERS_TOPIC, reason) == before + 1


def test_an_hr_record_without_a_key_is_skipped() -> None:
    before = skipped(HR_USERS_TOPIC, "no_key")
    bad = fake_record(HR_USERS_TOPIC, 11, None, hr_json("bad"))

    assert decode_around(accepted_change, HR_USERS_TOPIC, good_hr, bad) == ["before", "after"]
    assert skipped(HR_USERS_TOPIC, "no_key") == before + 1


DLQ_POISON = {
    "source not UTF-8": (dlq_headers(dlq_source=b"hr.users.v1/3/\xff"), "bad_header"),
    "source without offset": (dlq_headers(dlq_source=b"hr.users.v1"), "bad_header"),
    "source offset not a number": (dlq_headers(dlq_source=b"hr.users.v1/3/x"), "bad_header"),
    "no source": ([h for h in dlq_headers() if h[0] != "dlq-source"], "bad_header"),
    "attempts not a number": (dlq_headers(dlq_attempts=b"five"), "bad_header"),
    "message not UTF-8": (dlq_headers(dlq_error_message=b"\xc3\x28"), "bad_header"),
    "code not UTF-8": (dlq_headers(dlq_error_code=b"\x80"), "bad_header"),
    "last failure not a time": (dlq_headers(dlq_last_failure=b"yesterday"), "bad_header"),
}


@pytest.mark.parametrize(("headers", "reason"), DLQ_POISON.values(), ids=DLQ_POISON)
def test_a_dead_letter_with_bad_headers_is_skipped_and_its_neighbours_kept(
    headers: list[tuple[str, bytes]], reason: str
) -> None:
    before = skipped(HR_USERS_DLQ_TOPIC, reason)
    bad = fake_record(HR_USERS_DLQ_TOPIC, 11, b"bad", hr_json("bad"), headers)

    kept = decode_around(failed_change, HR_USERS_DLQ_TOPIC, good_dead_letter, bad)

    assert kept == ["before", "after"]
    assert skipped(HR_USERS_DLQ_TOPIC, reason) == before + 1


def test_a_dead_letter_nested_50000_deep_is_skipped() -> None:
    before = skipped(HR_USERS_DLQ_TOPIC, "too_deep")
    bad = fake_record(HR_USERS_DLQ_TOPIC, 11, b"bad", DEEP, dlq_headers())

    kept = decode_around(failed_change, HR_USERS_DLQ_TOPIC, good_dead_letter, bad)

    assert kept == ["before", "after"]
    assert skipped(HR_USERS_DLQ_TOPIC, "too_deep") == before + 1


def test_good_records_decode_as_before() -> None:
    [user] = slice_of([good_enriched(7, b"e-1")], enriched_change).changes
    [accepted] = slice_of([good_hr(7, b"e-1")], accepted_change).changes
    [failed] = slice_of([good_dead_letter(8, b"e-1")], failed_change).changes

    assert isinstance(user, Put)
    assert user.version == version_of(TIME, 41)
    assert user.fields["event_id"] == "hr-e-1"
    assert json.loads(user.fields["body"])["email"] == SECRET
    assert accepted == Put(
        "e-1", version_of(TIME, 7), {"event_id": "hr-e-1", "accepted_at": TIME, "resent": False}
    )
    assert isinstance(failed, Put)
    assert failed.version == version_of(TIME, 41)
    assert failed.fields == {
        "event_id": "hr-e-1",
        "accepted_at": TIME,
        "failed_at": datetime(2026, 3, 1, 9, 31, 5, tzinfo=UTC),
        "error": "okta_user_not_found: no Okta user",
        "attempts": 5,
    }


def test_absent_optional_parts_keep_their_defaults() -> None:
    """Leniency stays where it was: no `hroffset`, no attempts, no code, no failure time."""
    plain = json.loads(enriched_json("e-1"))
    del plain["hroffset"], plain["hreventid"]
    record = fake_record(USERS_ENRICHED_TOPIC, 7, b"e-1", json.dumps(plain).encode())
    [user] = slice_of([record], enriched_change).changes
    assert isinstance(user, Put)
    assert user.version == version_of(TIME, 0)
    assert user.fields["event_id"] == plain["id"]

    optional = {"dlq-attempts", "dlq-error-code", "dlq-error-message", "dlq-last-failure"}
    headers = [h for h in dlq_headers() if h[0] not in optional]
    letter = fake_record(HR_USERS_DLQ_TOPIC, 8, b"e-1", hr_json("e-1"), headers)
    [failed] = slice_of([letter], failed_change).changes
    assert isinstance(failed, Put)
    assert failed.fields["error"] == "error"
    assert failed.fields["attempts"] == 0
    assert failed.fields["failed_at"] == datetime.fromtimestamp(letter.timestamp / 1000, UTC)


def test_a_tombstone_still_erases() -> None:
    [change] = slice_of(
        [fake_record(USERS_ENRICHED_TOPIC, 7, b"e-1", None)], enriched_change
    ).changes
    assert change.employee_id == "e-1"
    assert not isinstance(change, Put)


def test_whatever_a_decoder_raises_the_record_is_skipped() -> None:
    """The guard is in `slice_of`: a decoder written tomorrow cannot stall the projector."""

    def broken(record: Record) -> Put | None:
        if record.offset == 11:
            raise KeyError(SECRET)
        return Put((record.key or b"").decode(), "v")

    topic = "some.topic.v1"
    records = [fake_record(topic, offset, f"k{offset}".encode(), b"{}") for offset in (10, 11, 12)]
    before = skipped(topic, "undecodable")

    part = slice_of(records, broken)

    assert [c.employee_id for c in part.changes] == ["k10", "k12"]
    assert skipped(topic, "undecodable") == before + 1


def test_a_skip_is_logged_once_by_place_never_by_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = fake_record(USERS_ENRICHED_TOPIC, 11, b"bad", enriched_json("bad", hroffset=SECRET))
    with caplog.at_level(logging.DEBUG, logger="onboarding_runtime.view.records"):
        slice_of(around(good_enriched, bad), enriched_change)

    [line] = [r for r in caplog.records if r.name == "onboarding_runtime.view.records"]
    assert line.levelno == logging.ERROR
    assert (line.__dict__["topic"], line.__dict__["partition"], line.__dict__["offset"]) == (
        USERS_ENRICHED_TOPIC,
        3,
        11,
    )
    assert line.exc_info is None
    assert SECRET not in line.getMessage()
    assert SECRET not in repr(line.__dict__)


def test_a_raising_supersede_rule_keeps_both_records() -> None:
    """The rule runs on the poll loop: raising there would stop the consumer."""

    def rule(newer: Record, older: Record) -> bool:
        raise RecursionError

    lane = Lane()
    first = fake_record(HR_USERS_TOPIC, 10, b"k", DEEP)
    second = fake_record(HR_USERS_TOPIC, 11, b"k", hr_json("k"))
    third = fake_record(HR_USERS_TOPIC, 12, b"k", hr_json("k"))
    lane.add(first, rule)
    lane.take()
    assert lane.add(second, rule) == []
    assert lane.add(third, rule) == []

    assert list(lane.queue) == [second, third]
    assert not lane.superseded


def test_an_erasure_record_nested_50000_deep_or_keyed_in_bytes_erases_nobody() -> None:
    erasures = Erasures(Pseudonymizer(b"test-key"))
    erasures.apply(b"\xff\xfe", DEEP)
    erasures.apply(b"k", NESTED_OBJECT)
    erasures.apply(b"k", b"\xff")

    assert len(erasures) == 0
