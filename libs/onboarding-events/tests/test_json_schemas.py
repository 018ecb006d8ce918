"""The generated JSON Schemas: `additionalProperties` on every object, set by the variant
whatever the model's own `extra` (the envelope allows extras, the data models ignore them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from onboarding_events.schemas import RECORDS, Variant, json_schema


def objects(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        if "properties" in schema:
            yield schema
        for key, child in schema.items():
            if key in ("properties", "$defs"):
                for sub in child.values():
                    yield from objects(sub)
            elif key in ("anyOf", "allOf", "oneOf"):
                for sub in child:
                    yield from objects(sub)
            elif key == "items":
                yield from objects(child)


@pytest.mark.parametrize("name", RECORDS)
@pytest.mark.parametrize(("variant", "allowed"), [("published", True), ("strict", False)])
def test_every_object_says_whether_it_takes_more(
    name: str, variant: Variant, allowed: bool
) -> None:
    found = list(objects(json_schema(name, variant)))

    assert found
    assert all(o["additionalProperties"] is allowed for o in found)


def test_strict_requires_every_field_and_published_only_those_without_a_default() -> None:
    strict = json_schema("hr.user.upserted", "strict")["$defs"]["HrUser"]["required"]
    published = json_schema("hr.user.upserted", "published")["$defs"]["HrUser"]["required"]

    assert "preferred_name" in strict
    assert "preferred_name" not in published
    assert {"employee_id", "email"} <= set(published)
