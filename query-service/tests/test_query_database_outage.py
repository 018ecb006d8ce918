"""The database stopped and started again during projection: nothing lost, nothing committed
early (a second app instance resumes from the committed offsets and still finds everyone)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from onboarding_devstack.ferretdb import mongodb_url, start_ferretdb, stop_ferretdb
from onboarding_devstack.polling import eventually_async as eventually
from onboarding_devstack.processes import free_port
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient
from query_support import READ_KEY, Publisher, client_of, make_settings, running

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
USERS = 300


class Database:
    """A FerretDB of this test's own: the session's shared one is never stopped."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.run_dir, self.data_dir = tmp / "run", tmp / "data"
        self.url = mongodb_url(self.port, "outage")

    def start(self) -> None:
        start_ferretdb(ROOT, self.run_dir, self.data_dir, self.port)

    def stop(self) -> None:
        stop_ferretdb(self.run_dir)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path)
    db.start()
    try:
        yield db
    finally:
        db.stop()


def retries() -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "onboarding_records_retried"
        for sample in metric.samples
        if sample.labels.get("consumer") == "query-projector" and sample.name.endswith("_total")
    )


async def users_stored(url: str, ids: list[str]) -> int:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url)
    try:
        users = client.get_default_database()["users"]
        return await users.count_documents({"_id": {"$in": ids}})
    finally:
        await client.close()


async def test_projection_survives_a_database_restart(
    database: Database, kafka_bootstrap: str, publish: Publisher
) -> None:
    settings = make_settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        mongodb_url=database.url,
        query_group_id=f"query-outage-{uuid.uuid4().hex[:8]}",
        read_api_key=READ_KEY,
    )
    run = uuid.uuid4().hex[:6]
    ids = [f"o{run}-{i}" for i in range(USERS)]
    async with running(settings) as app, client_of(app, **{"X-API-Key": READ_KEY}) as api:
        first = ids[0]
        await publish.enriched(await publish.hr(first))

        async def served() -> bool | None:
            return True if (await api.get(f"/v1/users/{first}")).status_code == 200 else None

        await eventually(served)
        database.stop()
        before = retries()
        for employee_id in ids[1:]:
            await publish.enriched(await publish.hr(employee_id))

        async def retrying() -> bool | None:
            return True if retries() > before else None

        await eventually(retrying)  # the projector has the records and cannot write them
        down = await api.get(f"/v1/users/{first}")
        assert down.status_code == 503
        assert down.headers["Retry-After"]
    # This instance stopped while the database was down: only its committed offsets remain.

    database.start()
    async with running(settings) as app, client_of(app, **{"X-API-Key": READ_KEY}) as api:

        async def everyone() -> bool | None:
            return True if await users_stored(database.url, ids) == USERS else None

        await eventually(everyone, within=60)
        for employee_id in (ids[1], ids[USERS // 2], ids[-1]):
            assert (await api.get(f"/v1/users/{employee_id}")).status_code == 200
