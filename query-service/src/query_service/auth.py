"""Read authentication: `READ_API_KEY` as `Authorization: Bearer <key>` or `X-API-Key`.

Unset means open (development and tests only: `Settings` refuses production without it).
The webhook's `API_KEY` never opens reads.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from pydantic import SecretStr


def presented_key(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key")


ReadKeyCheck = Callable[[Request], Awaitable[None]]


def read_auth(expected: SecretStr | None) -> ReadKeyCheck:
    """A dependency that lets a request through only with the read key."""
    secret = "" if expected is None else expected.get_secret_value()
    wanted = secret.encode() or None  # an empty key is no key

    async def require_read_key(request: Request) -> None:
        if wanted is None:
            return
        given = presented_key(request)
        # Constant time, so the key cannot be guessed byte by byte from response times.
        if given is None or not hmac.compare_digest(given.encode(), wanted):
            raise HTTPException(
                status_code=401,
                detail="Missing or invalid read API key",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_read_key
