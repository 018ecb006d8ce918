"""Who may post: `X-API-Key` (constant-time compare) and/or a Standard Webhooks signature.

With both configured, both are required; with neither (development only, see Settings),
every request passes. The caller's identity (which key, else which address) is what the
rate limiter counts against.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from onboarding_runtime.webhook_signatures import SignatureError, SigningSecret, verify


class AuthError(Exception):
    """401; the message names what was wrong, never a secret."""


class Caller(NamedTuple):
    identity: str  # the rate-limit bucket: `key:<fingerprint>` or `ip:<address>`
    signed_id: str | None  # the verified `webhook-id`, when signatures are on


class Authenticator:
    def __init__(self, api_keys: Sequence[str], secrets: Sequence[SigningSecret]) -> None:
        self._keys = [key.encode() for key in api_keys if key]
        self._secrets = list(secrets)

    def authenticate(
        self, headers: Mapping[str, str], body: bytes, *, client: str, now: float
    ) -> Caller:
        identity = f"ip:{client}"
        if self._keys:
            presented = headers.get("x-api-key", "").encode("utf-8", "surrogateescape")
            matches = [hmac.compare_digest(presented, key) for key in self._keys]
            if not any(matches):
                raise AuthError("missing or wrong X-API-Key")
            identity = f"key:{hashlib.sha256(presented).hexdigest()[:16]}"
        signed_id = None
        if self._secrets:
            try:
                signed_id = verify(self._secrets, headers, body, now=now)
            except SignatureError as exc:
                raise AuthError(f"invalid webhook signature: {exc}") from None
        return Caller(identity, signed_id)
