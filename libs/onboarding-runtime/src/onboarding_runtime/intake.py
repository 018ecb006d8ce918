"""An HR record in an HTTP request body: bounded, JSON, validated with every reason.

Shared by the two routes that take one, ingest's webhook and enrich's preview, so a record
is refused the same way, with the same reasons, at either door: `413` over `MAX_BODY_BYTES`,
`415` not a JSON media type, `422` with a pydantic-style `{loc, msg, type}` entry per failing
field (`InvalidRequest` documents that body). The reasons never echo the input: a field's
value may be personal data.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from datetime import date
from typing import Any

from onboarding_events import HrUser
from pydantic import BaseModel, ValidationError

MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    pass


class Invalid(Exception):
    """422: `errors` are pydantic-style `{loc, msg, type}` entries, every one of them."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


class ErrorReason(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class InvalidRequest(BaseModel):  # a `422`'s body: every reason
    detail: list[ErrorReason]


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


def reasons(exc: ValidationError) -> list[dict[str, Any]]:
    """Every reason, located in the body, without the input."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return [{**e, "loc": ["body", *e["loc"]]} for e in errors]


def parse_user(body: bytes, *, today: date) -> HrUser:
    """The HR record in `body`, validated as at intake on `today` (UTC): a start date more
    than a year ahead is refused too (`HrUser`)."""
    try:
        return HrUser.model_validate_json(body, context={"today": today})
    except ValidationError as exc:
        raise Invalid(reasons(exc)) from None
