"""Read authentication: `READ_API_KEY` as `Authorization: Bearer <key>` or `X-API-Key`.

Unset (or blank) means open: development and tests only, `Settings` refuses production
without a key. Several keys, comma-separated, are accepted at once so a key can be rotated.
The webhook's `API_KEY` never opens reads.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer

# The read key as OpenAPI security schemes, so `/docs` can send it: either works. Declared
# only (they raise nothing); `read_auth` checks the key, on the fast read route too.
READ_SECURITY = [
    Security(
        HTTPBearer(
            scheme_name="readBearer",
            description="`Authorization: Bearer <READ_API_KEY>`",
            auto_error=False,
        )
    ),
    Security(
        APIKeyHeader(
            name="X-API-Key",
            scheme_name="readApiKey",
            description="The read key (`READ_API_KEY`) in `X-API-Key`",
            auto_error=False,
        )
    ),
]


def presented_key(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key")


ReadKeyCheck = Callable[[Request], Awaitable[None]]


def read_auth(keys: Sequence[str]) -> ReadKeyCheck:
    """A dependency that lets a request through only with one of the read keys."""
    wanted = [key.encode() for key in keys if key]

    async def require_read_key(request: Request) -> None:
        if not wanted:
            return
        given = presented_key(request)
        presented = given.encode("utf-8", "surrogateescape") if given is not None else b""
        # Constant time, so a key cannot be guessed byte by byte from response times; every
        # key compared, so the time does not tell which one matched.
        if given is None or not any([hmac.compare_digest(presented, key) for key in wanted]):
            raise HTTPException(
                status_code=401,
                detail="Missing or invalid read API key",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return require_read_key
