"""The JSON Schemas under docs/schemas: the committed files are what the models generate,
what our writers produce fits the strict ones, and the published ones let a record of a
later `v1` (an additive change) through."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from onboarding_events import (
    HR_RECORD_EXAMPLE,
    USER_ENRICHED,
    DeadLetterRedriven,
    EmployeeErased,
    EnrichedUser,
    HrUser,
    UserEnriched,
    hr_user_upserted_json,
    new_event_id,
)
from onboarding_events.schemas import RECORDS, rendered

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
REGENERATE = "make schemas (or: .venv/bin/python -m onboarding_events.schemas docs/schemas)"
WHEN = datetime(2024, 1, 10, 9, 30, tzinfo=UTC)


def validator(variant: str, name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / variant / f"{name}.json").read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(variant: str, name: str, record: bytes) -> list[str]:
    found = validator(variant, name).iter_errors(json.loads(record))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def test_committed_schemas_are_what_the_models_generate() -> None:
    wanted = rendered()
    committed = {p.relative_to(SCHEMAS): p.read_text() for p in SCHEMAS.rglob("*.json")}

    stale = sorted(
        str(p) for p in wanted.keys() | committed.keys() if wanted.get(p) != committed.get(p)
    )
    assert not stale, f"docs/schemas differs from the models in {stale}: run {REGENERATE}"


def hr_event(**record: Any) -> bytes:
    user = HrUser.model_validate({**HR_RECORD_EXAMPLE, **record})
    return hr_user_upserted_json(
        user, event_id=new_event_id(), source="urn:onboarding:ingest-service", time=WHEN
    )


def enriched_event(**extensions: str) -> bytes:
    user = EnrichedUser(
        id="12345",
        name="Jane Doe",
        email="jane.doe@example.com",
        title=None,
        department="Engineering",
        startDate="2024-01-15",
        groups=["Everyone"],
        applications=[],
        onboarded=True,
    )
    return UserEnriched(
        source="urn:onboarding:enrich-service",
        type=USER_ENRICHED,
        subject="12345",
        time=WHEN,
        data=user,
        **extensions,
    ).to_json()


WRITTEN = {
    "hr.user.upserted, every field": ("hr.user.upserted", hr_event()),
    "hr.user.upserted, optional fields empty": (
        "hr.user.upserted",
        hr_event(preferred_name="", title=None, department=" ", start_date=None),
    ),
    "user.enriched, as enrich writes it": (
        "user.enriched",
        enriched_event(hreventid=new_event_id(), hroffset="42"),
    ),
    "user.enriched, without its extensions": ("user.enriched", enriched_event()),
    "employee.erased": ("employee.erased", EmployeeErased(erased_at=WHEN).to_json()),
    "dead-letter.redriven": (
        "dead-letter.redriven",
        DeadLetterRedriven(redriven_at=WHEN, run="a1b2c3d4e5f6").to_json(),
    ),
}


@pytest.mark.parametrize(("name", "record"), WRITTEN.values(), ids=WRITTEN.keys())
@pytest.mark.parametrize("variant", ["strict", "published"])
def test_what_our_writers_write_validates(variant: str, name: str, record: bytes) -> None:
    assert problems(variant, name, record) == []


def with_unknown_fields(record: bytes) -> bytes:
    value = json.loads(record)
    value["comment"] = "added in a later v1"
    if isinstance(value.get("data"), dict):
        value["data"]["nickname"] = "JD"
    return json.dumps(value).encode()


@pytest.mark.parametrize(("name", "record"), WRITTEN.values(), ids=WRITTEN.keys())
def test_an_additive_change_passes_the_published_schema_and_not_the_strict_one(
    name: str, record: bytes
) -> None:
    later = with_unknown_fields(record)

    assert problems("published", name, later) == []
    assert problems("strict", name, later) != []


def test_a_field_added_later_with_a_default_is_not_required_of_older_records() -> None:
    older = json.loads(hr_event())
    del older["data"]["preferred_name"]  # as if it had been added to the contract later

    assert problems("published", "hr.user.upserted", json.dumps(older).encode()) == []
    assert problems("strict", "hr.user.upserted", json.dumps(older).encode()) != []


def test_the_schemas_name_the_event_type_and_the_extension_attributes() -> None:
    schema = json.loads((SCHEMAS / "strict" / "user.enriched.json").read_text())

    assert schema["properties"]["type"]["const"] == USER_ENRICHED
    assert {"hreventid", "hroffset"} <= schema["properties"].keys()
    assert problems("strict", "user.enriched", enriched_event(hroffset="forty-two")) != []


def test_every_record_has_a_schema_in_both_variants() -> None:
    for variant in ("published", "strict"):
        assert {p.stem for p in (SCHEMAS / variant).glob("*.json")} == set(RECORDS)
