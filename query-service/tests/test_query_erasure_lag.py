"""An erased person never comes back, whatever the projector's lag: the issue's scenario.

A person is in the view; query-service is stopped; a newer HR record for them is enriched;
an operator runs `onboarding-ops erase`; query-service starts again and catches up. The
records from before the erasure must not re-create their user or their status.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from onboarding_events import HR_USERS_TOPIC, USERS_ENRICHED_TOPIC
from query_service.settings import Settings
from query_support import (
    READ_KEY,
    Publisher,
    Sent,
    client_of,
    running,
    wait_committed_past,
)

pytestmark = pytest.mark.integration

OPS = str(Path(sys.executable).parent / "onboarding-ops")


def erase(settings: Settings, employee_id: str) -> subprocess.CompletedProcess[str]:
    """`onboarding-ops erase`, as an operator runs it against this service's database."""
    env = {
        "PATH": "/usr/bin:/bin",
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "MONGODB_URL": settings.mongodb_url.get_secret_value(),
        "ENVIRONMENT": "test",
        "KAFKA_PUBLISH_TIMEOUT_S": "1",
    }
    return subprocess.run(
        [OPS, "erase", employee_id], env=env, capture_output=True, text=True, check=False
    )


async def test_a_lagging_projector_never_brings_an_erased_person_back(
    settings: Settings, publish: Publisher, kafka_bootstrap: str
) -> None:
    employee = f"lag-{uuid.uuid4().hex[:10]}"
    group = settings.query_group_id
    async with (
        running(settings) as transport,
        client_of(transport, Authorization=f"Bearer {READ_KEY}") as api,
    ):
        first = await publish.hr(employee)
        await wait_committed_past(
            kafka_bootstrap, group, USERS_ENRICHED_TOPIC, await publish.enriched(first)
        )
        assert (await api.get(f"/v1/users/{employee}")).status_code == 200

    # query-service is down: a newer HR record is accepted and enriched, then erased.
    newer = await publish.hr(employee)
    enriched = await publish.enriched(newer, title="Staff Engineer")
    erased = await asyncio.to_thread(erase, settings, employee)
    assert erased.returncode == 0, erased.stderr

    async with (
        running(settings) as transport,
        client_of(transport, Authorization=f"Bearer {READ_KEY}") as api,
    ):
        await wait_committed_past(
            kafka_bootstrap, group, HR_USERS_TOPIC, Sent(newer.partition, newer.offset)
        )
        await wait_committed_past(kafka_bootstrap, group, USERS_ENRICHED_TOPIC, enriched)
        user = await api.get(f"/v1/users/{employee}")
        status = await api.get(f"/v1/users/{employee}/status")

    assert user.status_code == 404
    assert status.status_code == 404, status.text
