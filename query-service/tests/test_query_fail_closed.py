"""Read keys fail closed: a key that parses to nothing refuses production; rotation works."""

from __future__ import annotations

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import ValidationError
from query_service.auth import read_auth
from query_support import make_settings

PRODUCTION = {"environment": "production", "pii_hash_key": "k" * 32}


@pytest.mark.parametrize("key", [" ", " , ", ",", "\t"])
def test_production_refuses_a_read_key_of_blanks(key: str) -> None:
    with pytest.raises(ValidationError, match="READ_API_KEY"):
        make_settings(**PRODUCTION, read_api_key=key)


async def test_every_configured_read_key_opens_reads_and_nothing_else_does() -> None:
    keys = make_settings(**PRODUCTION, read_api_key=" new-key , old-key ").read_keys()
    app = FastAPI()

    @app.get("/r", dependencies=[Depends(read_auth(keys))])
    async def read() -> dict[str, bool]:
        return {"ok": True}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://query") as client:
        codes = [
            (await client.get("/r", headers=headers)).status_code
            for headers in (
                {"Authorization": "Bearer new-key"},
                {"X-API-Key": "old-key"},
                {"Authorization": "Bearer  "},
                {"X-API-Key": ""},
                {"X-API-Key": "new-key , old-key"},
                {},
            )
        ]
    assert codes == [200, 200, 401, 401, 401, 401]
