"""The few CloudEvent attributes operations need, read without validating `data`.

Re-publishing never changes a value, so a record is only parsed this far: enough to know
whose event it is, which event, and when it happened.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    time: AwareDatetime
    subject: str


def read_envelope(value: bytes | None) -> Envelope | None:
    """None for a tombstone or a value that is not a CloudEvent."""
    if value is None:
        return None
    try:
        return Envelope.model_validate_json(value)
    except ValidationError:
        return None
