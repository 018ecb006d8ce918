from __future__ import annotations

import json
from typing import Any

import pytest
from onboarding_events import (
    HR_RECORD_EXAMPLE,
    HR_USER_UPSERTED,
    HrUser,
    HrUserUpserted,
    is_onboarded,
    unique_in_order,
)
from pydantic import ValidationError

SEED: dict[str, Any] = dict(HR_RECORD_EXAMPLE)


def test_seed_record_validates_and_ignores_unknown_fields() -> None:
    user = HrUser.model_validate({**SEED, "favourite_colour": "green"})

    assert user.employee_id == "12345"
    assert user.start_date is not None
    assert user.start_date.isoformat() == "2024-01-15"
    assert not hasattr(user, "favourite_colour")


def test_names_are_trimmed_and_email_kept_as_given() -> None:
    user = HrUser.model_validate({**SEED, "first_name": "  Jane ", "email": "Jane.Doe@Example.COM"})

    assert user.first_name == "Jane"
    assert user.email == "Jane.Doe@Example.COM"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("employee_id", ""),
        ("employee_id", "12 345"),
        ("employee_id", "x" * 65),
        ("email", "not-an-email"),
        ("first_name", "   "),
        ("start_date", "15/01/2024"),
    ],
)
def test_invalid_fields_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        HrUser.model_validate({**SEED, field: value})

    assert caught.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize("missing", ["employee_id", "first_name", "last_name", "email"])
def test_required_fields(missing: str) -> None:
    record = {k: v for k, v in SEED.items() if k != missing}

    with pytest.raises(ValidationError):
        HrUser.model_validate(record)


def test_cloudevent_round_trips_in_structured_mode() -> None:
    event = HrUserUpserted(
        source="urn:test", type=HR_USER_UPSERTED, subject="12345", data=HrUser(**SEED)
    )

    raw = json.loads(event.to_json())
    assert raw["specversion"] == "1.0"
    assert raw["subject"] == "12345"
    assert raw["datacontenttype"] == "application/json"
    assert raw["data"]["start_date"] == "2024-01-15"
    assert HrUserUpserted.from_json(event.to_json()) == event


@pytest.mark.parametrize(
    ("status", "onboarded"),
    [
        ("ACTIVE", True),
        ("PASSWORD_EXPIRED", True),
        ("LOCKED_OUT", True),
        ("RECOVERY", True),
        ("STAGED", False),
        ("PROVISIONED", False),
        ("SUSPENDED", False),
        ("DEPROVISIONED", False),
    ],
)
def test_onboarded_follows_okta_status(status: str, onboarded: bool) -> None:
    assert is_onboarded(status) is onboarded


def test_unique_in_order_keeps_first_occurrence() -> None:
    assert unique_in_order(["Everyone", "Eng", "Everyone", "Ops", "Eng"]) == [
        "Everyone",
        "Eng",
        "Ops",
    ]
