"""The plan's people in the Okta simulator (`PUT /_sim/users`), as the orchestrator decides.

`present` employees are put before the run; `late` ones later (or at once with
`appears_after_s`: the simulator keeps them unknown until then); `never` ones not at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import httpx

from tests.chaos.plan import Employee


def okta_user(
    employee: Employee, *, groups: Sequence[str] = ("Everyone",), appears_after_s: float = 0.0
) -> dict[str, object]:
    return {
        "email": employee.email,
        "first_name": "Ledger",
        "last_name": "Person",
        "groups": list(groups),
        "appears_after_seconds": appears_after_s,
    }


async def put_okta_users(
    client: httpx.AsyncClient,
    simulator_url: str,
    employees: Iterable[Employee],
    *,
    groups: Sequence[str] = ("Everyone",),
    appears_after_s: float = 0.0,
    concurrency: int = 16,
) -> None:
    gate = asyncio.Semaphore(concurrency)
    url = simulator_url.rstrip("/") + "/_sim/users"

    async def put(employee: Employee) -> None:
        async with gate:
            body = okta_user(employee, groups=groups, appears_after_s=appears_after_s)
            (await client.put(url, json=body)).raise_for_status()

    await asyncio.gather(*(put(e) for e in employees))
