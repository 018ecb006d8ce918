"""Okta-looking identifiers: a three-character type prefix and base62 characters.

Users are `00u…`, groups `00g…`, app instances `0oa…`, app assignments `0ua…`, user types
`oty…`, error ids `oae…`. Seeded objects get stable ids (derived from a key) so demos and
tests can name them; everything else gets a random one.
"""

from __future__ import annotations

import hashlib
import secrets

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_OBJECT_ID_LENGTH = 20
_BYTE_TO_CHAR = bytes(ord(_ALPHABET[byte % len(_ALPHABET)]) for byte in range(256))


def _base62(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return "".join(chars)


def stable_id(prefix: str, key: str) -> str:
    """The same id for the same prefix and key, in every run."""
    digest = hashlib.sha256(f"{prefix}:{key}".encode()).digest()
    return prefix + _base62(int.from_bytes(digest, "big"), _OBJECT_ID_LENGTH - len(prefix))


def new_id(prefix: str, length: int = _OBJECT_ID_LENGTH) -> str:
    # One draw of random bytes mapped onto the alphabet: the edge makes an id for every
    # response (`X-Okta-Request-Id`), and a draw per character costs a system call each.
    # (256 is not a multiple of 62, so the first few characters are slightly likelier.)
    return prefix + secrets.token_bytes(length - len(prefix)).translate(_BYTE_TO_CHAR).decode()


def error_id() -> str:
    """Okta's `errorId`, e.g. `oaeStGL6CfpSEeudUjTaEu8bw`."""
    return new_id("oae", 25)


def request_id() -> str:
    """Okta's `X-Okta-Request-Id` header value."""
    return new_id("", 27)
