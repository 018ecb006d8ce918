"""Reading a webhook request: the bounded body, content type and HR record with every reason
(`onboarding_runtime.intake`, shared with enrich's preview); a batch's records, each as the
JSON the single webhook would have been sent; and the delivery id."""

from __future__ import annotations

import json
import re
from itertools import islice
from typing import Any

from onboarding_runtime.intake import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    Invalid,
    is_json,
    parse_user,
    read_body,
    reasons,
)
from pydantic import TypeAdapter, ValidationError

__all__ = [
    "MAX_BATCH_BODY_BYTES",
    "MAX_BATCH_RECORDS",
    "MAX_BODY_BYTES",
    "MAX_DELIVERY_ID_LENGTH",
    "BodyTooLarge",
    "Invalid",
    "TooManyRecords",
    "delivery_id",
    "is_json",
    "is_ndjson",
    "parse_user",
    "read_body",
    "split_batch",
]

MAX_DELIVERY_ID_LENGTH = 255
MAX_BATCH_BODY_BYTES = 8 * 1024 * 1024
MAX_BATCH_RECORDS = 1_000

_JSON_ARRAY: TypeAdapter[list[Any]] = TypeAdapter(list[Any])
_JSON = json.JSONEncoder(separators=(",", ":"))  # NaN and Infinity written back as such
# A record of an NDJSON body: a line from its first non-blank byte (blank lines are skipped).
# Linear: `\S` never matches the newline that ends the previous record.
_NDJSON_RECORD = re.compile(rb"\S[^\n]*")


class TooManyRecords(Exception):
    """413: a batch of more than `MAX_BATCH_RECORDS` records."""


def is_ndjson(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == "application/x-ndjson"


def split_batch(body: bytes, *, ndjson: bool) -> list[bytes]:
    """The records of a batch, in order, each to be read by `parse_user`. A JSON array must
    be valid JSON as a whole; an NDJSON line that is not JSON is that record's problem.

    Raises `Invalid` (not a JSON array, or no record) and `TooManyRecords`.
    """
    if ndjson:
        # Counted without splitting the whole body: 8 MiB of newlines are not 8 M lines.
        lines = islice(_NDJSON_RECORD.finditer(body), MAX_BATCH_RECORDS + 1)
        records = [line.group() for line in lines]
    else:
        try:
            records = _JSON_ARRAY.validate_json(body)
        except ValidationError as exc:
            raise Invalid(reasons(exc)) from None
    if len(records) > MAX_BATCH_RECORDS:
        raise TooManyRecords
    if not records:
        raise Invalid(
            [{"loc": ["body"], "msg": "A batch holds at least one record", "type": "too_short"}]
        )
    if ndjson:
        return records
    # Each item as JSON again, so that its reasons are those the single webhook gives.
    return [_JSON.encode(item).encode() for item in records]


def delivery_id(webhook_id: str | None, idempotency_key: str | None) -> str | None:
    """The id that makes re-deliveries recognisable: `webhook-id` first."""
    chosen = webhook_id or idempotency_key
    if chosen is None:
        return None
    name = "webhook-id" if webhook_id else "idempotency-key"
    if not chosen.strip() or len(chosen) > MAX_DELIVERY_ID_LENGTH:
        raise Invalid(
            [
                {
                    "loc": ["header", name],
                    "msg": f"must be 1 to {MAX_DELIVERY_ID_LENGTH} characters",
                    "type": "string_length",
                }
            ]
        )
    return chosen
