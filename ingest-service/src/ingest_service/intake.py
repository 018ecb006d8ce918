"""Reading a webhook request: bounded body, content type, the HR record with every reason."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Any

from onboarding_events import HrUser
from pydantic import ValidationError

MAX_BODY_BYTES = 64 * 1024
MAX_DELIVERY_ID_LENGTH = 255


class BodyTooLarge(Exception):
    pass


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


def parse_user(body: bytes) -> HrUser:
    try:
        return HrUser.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise Invalid([{**e, "loc": ["body", *e["loc"]]} for e in errors]) from None


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
