"""PII-safe renderings of people: masked emails and keyed pseudonyms for ids.

A keyed HMAC (not a plain hash) so that nobody without the key can confirm a guess of an
employee id or email by hashing it themselves.
"""

from __future__ import annotations

import hashlib
import hmac


def mask_email(email: str) -> str:
    """`jane.doe@example.com` -> `j***@e***.com`: enough to tell addresses apart in a log."""
    local, sep, domain = email.partition("@")
    if not sep:
        return "***"
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{host[:1]}***{dot}{tld}" if dot else f"{domain[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


class Pseudonymizer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, value: str) -> str:
        digest = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return f"p_{digest[:16]}"
