"""Tolerant readers, strict writers: reading ignores fields the contract does not know (a
record of a later `v1`), building a model with one fails, so we never write one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from onboarding_events import (
    HR_RECORD_EXAMPLE,
    HR_USER_UPSERTED,
    USER_ENRICHED,
    DeadLetterRedriven,
    EmployeeErased,
    EnrichedUser,
    HrUser,
    HrUserUpserted,
    UserEnriched,
)
from pydantic import BaseModel, ValidationError

WHEN = datetime(2024, 1, 10, 9, 30, tzinfo=UTC)
ENRICHED: dict[str, Any] = {
    "id": "12345",
    "name": "Jane Doe",
    "email": "jane.doe@example.com",
    "title": None,
    "department": "Engineering",
    "startDate": "2024-01-15",
    "groups": ["Everyone"],
    "applications": ["Slack"],
    "onboarded": True,
}


def user_enriched(**extra: Any) -> UserEnriched:
    return UserEnriched(
        source="urn:test",
        type=USER_ENRICHED,
        subject="12345",
        time=WHEN,
        data=EnrichedUser(**ENRICHED),
        **extra,
    )


def later_v1(event: BaseModel, **data_fields: Any) -> bytes:
    """`event` as a newer writer may send it within `v1`: with fields added."""
    value = json.loads(event.model_dump_json())
    value["hrbatch"] = "b-7"
    value["data"].update(data_fields)
    return json.dumps(value).encode()


def test_an_enriched_event_of_a_later_v1_is_read_without_its_new_fields() -> None:
    raw = later_v1(user_enriched(hreventid="hr-1", hroffset="42"), pronouns="she/her")

    event = UserEnriched.from_json(raw)

    assert event.data == EnrichedUser(**ENRICHED)
    assert "pronouns" not in event.data.model_dump()
    # Extension attributes stay readable, known or not, as CloudEvents asks of a consumer.
    assert event.model_extra == {"hreventid": "hr-1", "hroffset": "42", "hrbatch": "b-7"}


def test_an_hr_event_of_a_later_v1_is_read_without_its_new_fields() -> None:
    written = HrUserUpserted(
        source="urn:test", type=HR_USER_UPSERTED, subject="12345", data=HrUser(**HR_RECORD_EXAMPLE)
    )

    event = HrUserUpserted.from_json(later_v1(written, cost_center="CC-9"))

    assert event.data == written.data


@pytest.mark.parametrize(
    ("model", "value"),
    [
        (EnrichedUser, ENRICHED),
        (EmployeeErased, {"erased_at": "2024-03-01T12:00:00Z"}),
        (DeadLetterRedriven, {"redriven_at": "2024-03-01T12:00:00Z", "run": "r1"}),
    ],
)
def test_model_validate_ignores_unknown_fields(
    model: type[BaseModel], value: dict[str, Any]
) -> None:
    read = model.model_validate_json(json.dumps({**value, "reason": "added later"}))

    assert read == model.model_validate(value)
    assert "reason" not in read.model_dump()


def test_tolerance_is_for_unknown_fields_only() -> None:
    incomplete = {k: v for k, v in ENRICHED.items() if k != "email"}

    with pytest.raises(ValidationError):
        EnrichedUser.model_validate(incomplete)


def test_the_writers_constructor_checks_the_extension_attributes() -> None:
    built = UserEnriched.of(
        source="urn:test",
        subject="12345",
        time=WHEN,
        data=EnrichedUser(**ENRICHED),
        hreventid="hr-1",
        hroffset="42",
    )
    written = json.loads(built.to_json())
    assert (written["hreventid"], written["hroffset"]) == ("hr-1", "42")

    with pytest.raises(ValidationError):
        UserEnriched.of(
            source="urn:test",
            subject="12345",
            time=WHEN,
            data=EnrichedUser(**ENRICHED),
            hreventid="hr-1",
            hroffset="not an offset",
        )
