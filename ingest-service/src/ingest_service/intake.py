"""Reading a webhook request: bounded body, content type, the HR record with every reason
(`onboarding_runtime.intake`, shared with enrich's preview), and the delivery id."""

from __future__ import annotations

from onboarding_runtime.intake import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    Invalid,
    is_json,
    parse_user,
    read_body,
)

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_DELIVERY_ID_LENGTH",
    "BodyTooLarge",
    "Invalid",
    "delivery_id",
    "is_json",
    "parse_user",
    "read_body",
]

MAX_DELIVERY_ID_LENGTH = 255


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
