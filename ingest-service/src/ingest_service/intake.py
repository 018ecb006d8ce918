"""Reading a webhook request: bounded body, content type, the HR record with every reason;
and a batch's records, each as the JSON the single webhook would have been sent."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable
from datetime import date
from itertools import islice
from typing import Any

from onboarding_events import HrUser
from pydantic import TypeAdapter, ValidationError

MAX_BODY_BYTES = 64 * 1024
MAX_DELIVERY_ID_LENGTH = 255
MAX_BATCH_BODY_BYTES = 8 * 1024 * 1024
MAX_BATCH_RECORDS = 1_000

_JSON_ARRAY: TypeAdapter[list[Any]] = TypeAdapter(list[Any])
_JSON = json.JSONEncoder(separators=(",", ":"))  # NaN and Infinity written back as such
# A record of an NDJSON body: a line from its first non-blank byte (blank lines are skipped).
# Linear: `\S` never matches the newline that ends the previous record.
_NDJSON_RECORD = re.compile(rb"\S[^\n]*")


class BodyTooLarge(Exception):
    pass


class TooManyRecords(Exception):
    """413: a batch of more than `MAX_BATCH_RECORDS` records."""


class Invalid(Exception):
    """422: `errors` are pydantic-style `{loc, msg, type}` entries, every one of them."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


async def read_body(
    chunks: AsyncIterable[bytes], declared_length: str | None, limit: int = MAX_BODY_BYTES
) -> bytes:
    """The body, refused as soon as it is known to exceed `limit` (before reading it all)."""
    declared = (declared_length or "").strip()
    # Bounded before it is converted: more digits than the limit has is over the limit.
    if (
        declared.isascii()
        and declared.isdigit()
        and (len(declared) > len(str(limit)) or int(declared) > limit)
    ):
        raise BodyTooLarge
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def is_json(content_type: str | None) -> bool:
    """`application/json` or a `+json` type such as `application/merge-patch+json`."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


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
            raise Invalid(_reasons(exc)) from None
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


def _reasons(exc: ValidationError) -> list[dict[str, Any]]:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return [{**e, "loc": ["body", *e["loc"]]} for e in errors]


def parse_user(body: bytes, *, today: date) -> HrUser:
    """The HR record in `body`, validated as at intake on `today` (UTC): a start date more
    than a year ahead is refused too."""
    try:
        return HrUser.model_validate_json(body, context={"today": today})
    except ValidationError as exc:
        raise Invalid(_reasons(exc)) from None


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
