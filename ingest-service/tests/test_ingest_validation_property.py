"""Property tests of the webhook's validation: what is accepted, what is refused, and why."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_service.intake import Invalid, parse_user

# The day the records are validated on (intake refuses a start more than 366 days later).
TODAY = date(2026, 12, 5)
ID_CHARS = st.sampled_from("abcXYZ019._-")
valid_ids = st.text(ID_CHARS, min_size=1, max_size=64)
PRINTABLE = st.characters(exclude_categories=["Cc", "Cs"])
names = st.text(PRINTABLE, min_size=1, max_size=100).filter(lambda s: s.strip() != "")
emails = st.builds(
    "{}@{}.{}".format,
    st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]", fullmatch=True).filter(
        lambda s: ".." not in s
    ),
    # "ab--c" is refused by IDNA rules (a hyphen pair at places 3-4 is reserved for Punycode)
    st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True).filter(lambda s: "--" not in s),
    st.sampled_from(["com", "org", "example", "io"]),
)
valid_records = st.fixed_dictionaries(
    {"employee_id": valid_ids, "first_name": names, "last_name": names, "email": emails},
    optional={
        "preferred_name": st.one_of(st.none(), names),
        "title": st.one_of(st.none(), st.text(PRINTABLE, max_size=200)),
        "department": st.one_of(st.none(), st.text(PRINTABLE, max_size=200)),
        "start_date": st.dates(max_value=TODAY + timedelta(days=366)).map(date.isoformat),
        "unknown_field": st.integers(),
    },
)


def _reasons(body: bytes) -> list[list[str | int]] | None:
    """The `loc` of every reason for refusing `body`, or None when it is accepted."""
    try:
        parse_user(body, today=TODAY)
    except Invalid as exc:
        return [e["loc"] for e in exc.errors]
    return None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(valid_records)
def test_every_valid_record_is_accepted_with_names_trimmed(record: dict[str, Any]) -> None:
    user = parse_user(json.dumps(record).encode(), today=TODAY)

    assert user.employee_id == record["employee_id"]
    assert user.first_name == record["first_name"].strip()
    assert user.email == record["email"]
    assert not hasattr(user, "unknown_field")


@settings(max_examples=200, deadline=None)
@given(valid_records, st.text(max_size=80))
def test_an_employee_id_outside_the_pattern_is_refused_with_its_reason(
    record: dict[str, Any], employee_id: str
) -> None:
    valid = re.fullmatch(r"[A-Za-z0-9._-]{1,64}", employee_id) is not None
    reasons = _reasons(json.dumps({**record, "employee_id": employee_id}).encode())

    assert reasons == (None if valid else [["body", "employee_id"]])


@settings(max_examples=100, deadline=None)
@given(valid_records, st.sampled_from(["first_name", "last_name", "title"]), st.text(max_size=5))
def test_control_characters_in_names_are_refused(
    record: dict[str, Any], field: str, around: str
) -> None:
    reasons = _reasons(json.dumps({**record, field: f"A{around}\x07B"}).encode())

    assert reasons is not None
    assert ["body", field] in reasons


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), JSON_VALUES.map(lambda v: json.dumps(v).encode())))
def test_any_body_is_a_record_or_every_reason_never_a_crash(body: bytes) -> None:
    try:
        parse_user(body, today=TODAY)
        errors: list[dict[str, Any]] | None = None
    except Invalid as exc:
        errors = exc.errors
    if errors is not None:
        assert errors
        assert all(e["loc"][0] == "body" and e["msg"] and e["type"] for e in errors)
        json.dumps(errors)  # the 422 body must serialise


def test_a_start_more_than_366_days_ahead_is_refused_naming_the_field() -> None:
    record = {"employee_id": "e1", "first_name": "A", "last_name": "B", "email": "a@b.example"}
    ahead = json.dumps(record | {"start_date": str(TODAY + timedelta(days=366))}).encode()
    too_far = json.dumps(record | {"start_date": str(TODAY + timedelta(days=367))}).encode()

    assert parse_user(ahead, today=TODAY).start_date == TODAY + timedelta(days=366)
    with pytest.raises(Invalid) as refused:
        parse_user(too_far, today=TODAY)
    [reason] = refused.value.errors
    assert (reason["loc"], reason["type"]) == (["body", "start_date"], "date_too_far_ahead")
    assert reason["msg"] == "start_date is more than 366 days ahead"
