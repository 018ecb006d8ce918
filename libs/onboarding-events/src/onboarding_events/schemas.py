"""JSON Schemas of every record the platform writes, generated from the models.

Committed under `docs/schemas/` in two variants; regenerate them with
`python -m onboarding_events.schemas docs/schemas` (`make schemas`).

- `published/`, for subscribers: every object admits properties it does not list
  (`additionalProperties: true`), so a record of a later `v1` (an additive change) still
  validates; required are the CloudEvents attributes and the fields without a default, so a
  field added later (it comes with a default) leaves older records on a compacted topic
  valid.
- `strict/`, for our writers' tests: exactly the contract, no property it does not list
  (`additionalProperties: false`), and every field present, as our writers always write.

`additionalProperties` is set here on every object, whatever the models' own `extra`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from onboarding_events.cloudevent import CloudEvent
from onboarding_events.enriched import USER_ENRICHED, UserEnriched
from onboarding_events.erasure import EmployeeErased
from onboarding_events.hr import HR_USER_UPSERTED, HrUserUpserted
from onboarding_events.redrive import DeadLetterRedriven

Variant = Literal["published", "strict"]
VARIANTS: tuple[Variant, ...] = ("published", "strict")
DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Record:
    model: type[BaseModel]
    event_type: str | None = None  # the CloudEvent `type`, for events


# Every record value the platform writes, by the name of its schema file.
RECORDS: dict[str, Record] = {
    HR_USER_UPSERTED: Record(HrUserUpserted, HR_USER_UPSERTED),
    USER_ENRICHED: Record(UserEnriched, USER_ENRICHED),
    "employee.erased": Record(EmployeeErased),
    "dead-letter.redriven": Record(DeadLetterRedriven),
}


class _EveryFieldRequired(GenerateJsonSchema):
    """Our writers serialize every field, defaults and nulls included."""

    def field_is_required(self, field: Any, total: bool) -> bool:
        return True


def json_schema(name: str, variant: Variant) -> dict[str, Any]:
    record = RECORDS[name]
    generator = _EveryFieldRequired if variant == "strict" else GenerateJsonSchema
    schema = record.model.model_json_schema(mode="serialization", schema_generator=generator)
    if issubclass(record.model, CloudEvent):
        properties = schema["properties"]
        properties["type"]["const"] = record.event_type
        # Every envelope attribute was there from the start: required in both variants.
        schema["required"] = list(CloudEvent.model_fields)
        if record.model.extensions is not None:  # optional: not every writer sets them
            properties.update(record.model.extensions.model_json_schema()["properties"])
    _set_additional_properties(schema, allowed=variant == "published")
    return {"$schema": DIALECT, **schema}


def _set_additional_properties(schema: Any, *, allowed: bool) -> None:
    """On every object schema within `schema`, following its structure (not property names)."""
    if not isinstance(schema, dict):
        return
    is_object = schema.get("type") == "object" or "properties" in schema
    if is_object and not isinstance(schema.get("additionalProperties"), dict):  # not a map
        schema["additionalProperties"] = allowed
    for child in [
        *schema.get("properties", {}).values(),
        *schema.get("$defs", {}).values(),
        *schema.get("anyOf", []),
        *schema.get("oneOf", []),
        *schema.get("allOf", []),
        schema.get("items"),
        schema.get("additionalProperties"),
    ]:
        _set_additional_properties(child, allowed=allowed)


def rendered() -> dict[Path, str]:
    """Every schema file's text, by its path under the schema folder."""
    return {
        Path(variant) / f"{name}.json": json.dumps(json_schema(name, variant), indent=2) + "\n"
        for variant in VARIANTS
        for name in RECORDS
    }


def write(folder: Path) -> list[Path]:
    """Write every schema file under `folder`; the paths written."""
    written = []
    for relative, text in rendered().items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m onboarding_events.schemas FOLDER (docs/schemas)", file=sys.stderr)
        return 2
    for path in write(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
