"""Signing a batch as ingest-service verifies it: Standard Webhooks, over the raw body.

The sender's half of ingest's `signatures.py` (which this package must not import: apps are
never imported). Signed content `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256 with
the secret's decoded bytes, sent as `v1,<base64>`; one entry per secret, space-separated,
so the service accepts the batch whichever of them it holds while a secret is rotated.
Tests check it against the `standardwebhooks` package's verification.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"


def signing_keys(value: str) -> list[bytes]:
    """`whsec_<base64>[,whsec_<base64>...]` (the prefix optional), as ingest-service reads
    WEBHOOK_SECRET. Raises ValueError naming the variable, never the value."""
    keys = []
    for raw in value.split(","):
        text = raw.strip().removeprefix(SECRET_PREFIX)
        if not text:
            continue
        try:
            key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("WEBHOOK_SECRET: each secret must be whsec_ and base64") from None
        if not key:
            raise ValueError("WEBHOOK_SECRET: a secret is empty")
        keys.append(key)
    if value.strip() and not keys:
        raise ValueError("WEBHOOK_SECRET holds no secret")
    return keys


def signature_header(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per key."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
        for key in keys
    )
