"""Standard Webhooks signatures over the raw body bytes: ingest-service verifies them,
`onboarding-ops import` signs its batches (`signature_header`).

Our own small implementation of the spec (https://www.standardwebhooks.com) rather than the
`standardwebhooks` package's `verify`, which decodes the body as UTF-8 and base64-decodes
header values unguarded, so a malformed header or a non-UTF-8 body raises something other
than its `WebhookVerificationError`. Tests check that the package's `sign` and this agree.

Signed content: `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256 with the secret's
decoded bytes; `webhook-signature` is a space-separated list of `v1,<base64>` (other
versions, such as asymmetric `v1a`, are skipped). Several secrets are accepted at once so a
sender can rotate without downtime.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 5 * 60
MAX_ID_LENGTH = 255
# Seconds since the epoch fit in 11 digits until the year 5138: a longer value is refused
# before it is converted (Python refuses to parse integers of over 4,300 digits at all).
MAX_TIMESTAMP_DIGITS = 12


class SignatureError(Exception):
    """The request is not signed by any of our secrets; the message says why (safe to show)."""


@dataclass(frozen=True)
class SigningSecret:
    key: bytes

    def sign(self, msg_id: str, timestamp: int, body: bytes) -> bytes:
        content = f"{msg_id}.{timestamp}.".encode() + body
        return hmac.new(self.key, content, hashlib.sha256).digest()


def signature_header(
    secrets: Sequence[SigningSecret], msg_id: str, timestamp: int, body: bytes
) -> str:
    """The sender's `webhook-signature` header: one `v1,<base64>` per secret, so the
    receiver accepts it whichever of them it holds while a secret is rotated."""
    return " ".join(
        "v1," + base64.b64encode(secret.sign(msg_id, timestamp, body)).decode()
        for secret in secrets
    )


def parse_secrets(value: str) -> list[SigningSecret]:
    """`whsec_<base64>[,whsec_<base64>...]`; the prefix is optional. Raises ValueError."""
    secrets = []
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
        secrets.append(SigningSecret(key))
    if value.strip() and not secrets:
        raise ValueError("WEBHOOK_SECRET holds no secret")
    return secrets


def _signatures(header: str) -> list[bytes]:
    found = []
    for item in header.split():
        version, sep, encoded = item.partition(",")
        if not sep or version != "v1":
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue  # one bad entry must not hide a good one beside it
    return found


def verify(
    secrets: Sequence[SigningSecret], headers: Mapping[str, str], body: bytes, *, now: float
) -> str:
    """Return the verified `webhook-id`, or raise `SignatureError`."""
    msg_id = headers.get("webhook-id", "")
    timestamp_text = headers.get("webhook-timestamp", "")
    signature_header = headers.get("webhook-signature", "")
    if not (msg_id and timestamp_text and signature_header):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    if len(msg_id) > MAX_ID_LENGTH:
        raise SignatureError("webhook-id is too long")
    if (
        len(timestamp_text) > MAX_TIMESTAMP_DIGITS
        or not timestamp_text.isascii()
        or not timestamp_text.isdigit()
    ):
        raise SignatureError("webhook-timestamp must be whole seconds since the epoch")
    timestamp = int(timestamp_text)
    if timestamp < now - TOLERANCE_S:
        raise SignatureError("webhook-timestamp is too old")
    if timestamp > now + TOLERANCE_S:
        raise SignatureError("webhook-timestamp is in the future")
    given = _signatures(signature_header)
    if not given:
        raise SignatureError("webhook-signature holds no v1 signature")
    for secret in secrets:
        expected = secret.sign(msg_id, timestamp, body)
        # Compare with every candidate (no early exit on the first): constant time per secret.
        if any([hmac.compare_digest(expected, candidate) for candidate in given]):
            return msg_id
    raise SignatureError("no matching signature")
