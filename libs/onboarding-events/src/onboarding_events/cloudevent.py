"""CloudEvents 1.0 envelope in structured mode, per the CloudEvents Kafka protocol binding.

The value is the whole event as JSON and the header `content-type` says so; the record key
is the employee id, which is also the event's `subject`.

Read tolerantly, like every model here (`contract.ContractModel`): attributes the envelope
does not declare are kept in `model_extra`, as CloudEvents asks of a consumer for extension
attributes, and unknown fields of `data` are ignored. Built strictly: an event type names
the extension attributes its writers set (`extensions`), and no other may be passed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from onboarding_events.contract import ContractModel

CONTENT_TYPE = "application/cloudevents+json"
CONTENT_TYPE_HEADER = "content-type"

DataT = TypeVar("DataT", bound=BaseModel)
# Named outside the class: inside it, `type` is the CloudEvent attribute.
ModelClass = type[BaseModel]


def new_event_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> datetime:
    return datetime.now(UTC)


class CloudEvent(ContractModel, Generic[DataT]):
    """A structured-mode CloudEvent whose `data` is a typed model."""

    model_config = ConfigDict(frozen=True, extra="allow")
    # The extension attributes writers of this event type set, as a model's fields (for
    # their names, types and descriptions in the JSON Schemas); None: no extensions.
    extensions: ClassVar[ModelClass | None] = None

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(default_factory=new_event_id, min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    time: datetime = Field(default_factory=utc_now)
    subject: str = Field(min_length=1)
    datacontenttype: Literal["application/json"] = "application/json"
    data: DataT

    def to_json(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=False).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Self:
        return cls.model_validate_json(raw)


def kafka_headers(extra: dict[str, str] | None = None) -> list[tuple[str, bytes]]:
    """Headers of a structured-mode record, plus any extra (trace, replay markers)."""
    headers = [(CONTENT_TYPE_HEADER, CONTENT_TYPE.encode())]
    for key, value in (extra or {}).items():
        headers.append((key, value.encode()))
    return headers


def header_map(headers: Any) -> dict[str, str]:
    """Kafka headers (a sequence of (name, bytes)) as a dict of text; the last value wins."""
    result: dict[str, str] = {}
    for key, value in headers or ():
        result[str(key)] = bytes(value).decode("utf-8", "replace") if value is not None else ""
    return result
